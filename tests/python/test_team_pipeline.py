"""The "done when" of issue #25: one team's pipeline (examples/team-pipeline/) mixes an R
notebook, a shell command, a Python percent script and a PySpark notebook, each run as written,
with values and files flowing R -> command -> script -> PySpark, on the local backend.

Spark runs on ``local[2]`` here (``c.MlShip.spark_master``): the real standalone cluster, and a
step's ``spark:`` key on it, are tested in test_spark.py. Needs R/IRkernel and pyspark + Java:
skipped without them unless ``ML_SHIP_REQUIRE`` names ``r`` or ``spark``."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.languages import installed_kernels

from .conftest import EXAMPLES, require
from .spark_harness import usable
from .test_pipelines import explain, steps_of

TIMEOUT = 300


def expected(data: Path, min_amount: float) -> tuple[list[dict[str, str]], dict[str, float]]:
    with data.open(newline="") as fh:
        kept = [row for row in csv.DictReader(fh) if float(row["amount"]) >= min_amount]
    net: dict[str, float] = {}
    for row in kept:
        net[row["region"]] = net.get(row["region"], 0.0) + round(float(row["amount"]) / 1.2, 2)
    return kept, net


def test_the_team_pipeline_runs_r_command_script_and_pyspark_as_written(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # the driver and its UI on loopback
    require("r", "ir" in installed_kernels(), "no 'ir' Jupyter kernel (scripts/r-up.sh)")
    ok, why = usable()
    require("spark", ok, why)
    team = shutil.copytree(EXAMPLES / "team-pipeline", tmp_path / "team-pipeline")
    svc = ShipService(MlShip(home=str(home), freeze_environment=False, spark_master="local[2]"))
    try:
        version = svc.ship_pipeline(team / "team.pipeline.yaml").version
        kinds = {s.id: s.job for s in version.steps}
        assert kinds == {"clean": "team-clean", "regions": "team-sales-regions",
                         "features": "features", "aggregate": "team-aggregate"}
        run = svc.run_pipeline("team-sales", parameters={"min_amount": 20}, detach=False)
        info = svc.drive_pipeline_run(run.id, timeout=TIMEOUT)
        assert info.status == "succeeded", explain(svc, info)
        s = steps_of(info)
        kept, net = expected(team / "data" / "sales.csv", 20)
        regions = sorted(net)
        # R: the parameter reached it, and it read the team's data by its own relative path
        assert s["clean"].outputs["rows"] == len(kept)
        assert s["clean"].outputs["total"] == pytest.approx(
            sum(float(r["amount"]) for r in kept), abs=0.01)
        # the shell command got the R step's file and row count, and said what it counted
        assert s["regions"].outputs == {"regions": len(regions), "rows": len(kept)}
        log = svc.read_log(s["regions"].run_id)[0].decode()
        assert f"{len(kept)} sales in {len(regions)} regions:" in log
        # the script got the R step's file and the command's count
        assert s["features"].outputs == {"rows": len(kept), "regions": regions}
        # PySpark summed the script's file (with the step's conf over the notebook's spark: true)
        got = s["aggregate"].outputs
        assert got["net_by_region"] == pytest.approx(net, abs=0.05)
        assert got["top_region"] == max(net, key=lambda r: net[r])
        spark_run = svc.get_run(s["aggregate"].run_id)
        assert spark_run.spark is not None and spark_run.spark.master == "local[2]"
        assert re.match(r"http://(127\.0\.0\.1|localhost):\d+$", spark_run.spark.ui_url)
    finally:
        svc.close()
