"""A pipeline's runs at a glance: one row per pipeline run, one column group per step (core and
REST), real kernels."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from jupyter_ml_ship.core.pipeline_history import pipeline_history

from .conftest import make_notebook
from .test_server import (  # noqa: F401 - fixtures
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
    ml_home,
)

PIPELINE = """
name: churn
parameters: {n: 2, fail: false}
steps:
  prep:
    notebook: prep.ipynb
    parameters: {n: "{{ params.n }}"}
  train:
    notebook: train.ipynb
    depends_on: [prep]
    parameters: {rows: "{{ steps.prep.outputs.rows }}", fail: "{{ params.fail }}"}
"""


def files(root: Path) -> Path:
    rec = "from jupyter_ml_ship import record\n"
    make_notebook(root / "prep.ipynb", rec + "record('rows', n * 100)", params="n = 1")
    make_notebook(root / "train.ipynb", "if fail:\n    raise ValueError('no convergence')",
                  rec + "record('accuracy', round(0.5 + rows / 1000, 3))\nrecord('model', 'tree')",
                  params="rows = 0\nfail = False")
    path = root / "churn.pipeline.yaml"
    path.write_text(PIPELINE)
    return path


def test_pipeline_history_groups_columns_by_step(svc, tmp_path):
    svc.ship_pipeline(files(tmp_path / "work"))
    ok = svc.drive_pipeline_run(svc.run_pipeline("churn", parameters={"n": 3},
                                                 detach=False).id, timeout=240)
    bad = svc.drive_pipeline_run(svc.run_pipeline("churn", parameters={"n": 4, "fail": True},
                                                  detach=False).id, timeout=240)
    assert (ok.status, bad.status) == ("succeeded", "failed")
    h = pipeline_history(svc, "churn")
    assert h.job == "churn" and [r.id for r in h.runs] == [bad.id, ok.id]
    assert [(g.id, g.job) for g in h.step_groups] == [("prep", "prep"), ("train", "train")]
    groups = {g.id: g for g in h.step_groups}
    assert [c.name for c in groups["prep"].parameters] == ["n"]
    assert [(c.name, c.numeric) for c in groups["train"].outputs] == [
        ("accuracy", True), ("model", False)]
    assert [c.name for c in h.outputs] == ["prep.rows", "train.accuracy", "train.model"]
    first, second = h.runs[1], h.runs[0]
    assert first.parameters == {"n": 3, "fail": False}
    assert first.outputs["train.accuracy"] == 0.8 and first.outputs["prep.rows"] == 300
    assert first.steps["train"].status == "succeeded"
    assert first.steps["train"].parameters == {"rows": 300, "fail": False}
    assert first.steps["train"].duration is not None and first.steps["train"].run_id
    assert second.status == "failed" and second.steps["train"].status == "failed"
    assert second.steps["train"].outputs == {} and "no convergence" in (second.error or "")
    assert second.steps["prep"].outputs == {"rows": 400}


async def wait_pipeline(api: Api, run_id: str, timeout: float = 180) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        info = js(await api("GET", "pipeline-runs", run_id))
        if info["status"] in ("succeeded", "failed", "cancelled") or loop.time() > deadline:
            return info
        await asyncio.sleep(0.3)


async def test_pipeline_history_over_rest(api: Api, jp_root_dir: Path) -> None:
    files(jp_root_dir)
    await api("POST", "pipelines", body={"path": "churn.pipeline.yaml"}, expect=201)
    run = js(await api("POST", "pipelines", "churn", "runs", body={"parameters": {"n": 5}},
                       expect=201))
    assert (await wait_pipeline(api, run["id"]))["status"] == "succeeded"
    h = js(await api("GET", "pipelines", "churn", "history"))
    assert [r["id"] for r in h["runs"]] == [run["id"]]
    row = h["runs"][0]
    assert row["steps"]["train"]["outputs"] == {"accuracy": 1.0, "model": "tree"}
    assert row["outputs"]["train.accuracy"] == 1.0
    assert [g["id"] for g in h["step_groups"]] == ["prep", "train"]
    h = js(await api("GET", "pipelines", "churn", "history", params={"status": "failed"}))
    assert h["runs"] == []
    r = await api("GET", "pipelines", "nope", "history", expect=404)
    assert error_of(r)[0] == "not_found"
    r = await api("GET", "pipelines", "churn", "history", params={"limit": "0"}, expect=400)
    r = await api("GET", "pipelines", "churn", "history", headers={"Authorization": ""},
                  expect=403)
    assert error_of(r)[0] == "forbidden"
