"""The airflow backend against a real local Airflow 3: start-up latency and per-step overhead.

    .venv/bin/python bench/bench_airflow.py [--steps 3] [--repeat 3]

Starts a throw-away Airflow (``tests/python/airflow_harness.py``: api-server, scheduler,
dag-processor, one EdgeExecutor worker, SQLite, on 127.0.0.1) and a chain of ``--steps``
trivial notebooks (each records a value the next one reads). Then, with the same images:

1. ``ml-ship pipeline run FILE --backend airflow`` (the CLI, no ``--wait``) → the DAG run's
   ``start_date`` in Airflow: for a new pipeline version (image check, DAG file, the
   dag-processor loading it) and for a version Airflow already has;
2. the whole chain, from the CLI call to our pipeline run succeeding, on ``airflow`` and on
   ``docker``; the added time per step is (airflow − docker) / steps, the same images and
   notebooks on both;
3. the same split by Airflow's own timestamps: queued → running per task, task duration against
   the notebook's own run time.

The first task a fresh worker runs pays the import of Airflow's task runtime; a warm-up run
happens first and is reported on its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import env_with, report  # noqa: E402
from tests.python.airflow_harness import AirflowHarness, airflow_installed  # noqa: E402
from tests.python.conftest import make_notebook  # noqa: E402

BASE_IMAGE = "ml-ship/base:bookworm"


def chain(folder: Path, steps: int, tag: str) -> Path:
    """``s0 -> s1 -> ...``: each step adds one to what the step before recorded."""
    lines = [f"name: bench-{tag}", "steps:"]
    for i in range(steps):
        make_notebook(folder / f"s{i}.ipynb",
                      "from jupyter_ml_ship import record\nprint('step', n)\nrecord('n', n + 1)",
                      params="n = 0", metadata={"ml_ship": {"name": f"bench-{tag}-s{i}"}})
        lines.append(f"  s{i}:\n    notebook: s{i}.ipynb")
        if i:
            lines.append(f"    depends_on: [s{i - 1}]\n"
                         f"    parameters: {{n: '{{{{ steps.s{i - 1}.outputs.n }}}}'}}")
    path = folder / f"bench-{tag}.pipeline.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def when(value: str | None) -> float:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() if value else 0.0


def ml_ship(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", *args], env=env,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(f"ml-ship {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def wait_pipeline(env: dict[str, str], run_id: str) -> dict[str, Any]:
    while True:
        info = json.loads(ml_ship(env, "pipeline", "status", run_id, "--json"))
        if info["status"] in ("succeeded", "failed", "cancelled"):
            if info["status"] != "succeeded":
                raise SystemExit(f"pipeline run {run_id} {info['status']}: {info['error']}")
            return info
        time.sleep(0.2)


def airflow_run(h: AirflowHarness, env: dict[str, str], pipeline: Path,
                dag_id: str) -> dict[str, float]:
    t0 = time.time()
    run_id = ml_ship(env, "pipeline", "run", str(pipeline), "--backend", "airflow").strip()
    cli = time.time() - t0
    url = f"/api/v2/dags/{dag_id}/dagRuns/ml-ship-{run_id}"
    while True:
        try:
            dag_run = h.get(url)
            if dag_run.get("start_date"):
                break
        except Exception:  # not triggered yet
            pass
        time.sleep(0.1)
    started = when(dag_run["start_date"]) - t0
    info = wait_pipeline(env, run_id)
    total = when(info["ended_at"]) - t0
    tis = h.get(url + "/taskInstances")["task_instances"]
    waits = [when(t["start_date"]) - when(t["queued_when"]) for t in tis]
    task_time = [when(t["end_date"]) - when(t["start_date"]) for t in tis]
    own = [s["duration"] or 0.0 for s in info["steps"]]  # our step records
    return {"cli": cli, "dag_run_started": started, "total": total,
            "queued_to_running": statistics.median(waits),
            "task": statistics.median(task_time), "step_record": statistics.median(own)}


def docker_run(env: dict[str, str], pipeline: Path) -> float:
    t0 = time.time()
    out = ml_ship(env, "pipeline", "run", str(pipeline), "--backend", "docker", "--no-cache",
                  "--wait", "--json")
    info = json.loads(out)
    if info["status"] != "succeeded":
        raise SystemExit(f"docker pipeline run {info['status']}: {info['error']}")
    return when(info["ended_at"]) - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ok, why = airflow_installed()
    if not ok:
        raise SystemExit(why)
    root = Path(tempfile.mkdtemp(prefix="ml-ship-bench-airflow-"))
    h = AirflowHarness(root / "airflow")
    (root / "artifacts").mkdir()
    t0 = time.monotonic()
    h.start()
    up = time.monotonic() - t0
    env = env_with(
        ML_SHIP_HOME=str(root / "home"), ML_SHIP_AIRFLOW_URL=h.url,
        ML_SHIP_AIRFLOW_USERNAME=h.username, ML_SHIP_AIRFLOW_PASSWORD=h.password,
        ML_SHIP_AIRFLOW_DAGS_FOLDER=str(h.dags_folder),
        ML_SHIP_AIRFLOW_ARTIFACTS=str(root / "artifacts"), ML_SHIP_DOCKER_BASE_IMAGE=BASE_IMAGE,
        ML_SHIP_CA_BUNDLE="/usr/local/share/ca-certificates")
    try:
        tag = f"{int(time.time()) % 100000}"
        pipeline = chain(root / "nb", args.steps, tag)
        dag_id = f"ml-ship.bench-{tag}.v1"
        # images built and the worker warmed (its first task imports the task runtime)
        ml_ship(env, "pipeline", "ship", str(pipeline))
        warm = airflow_run(h, env, pipeline, dag_id)
        new_versions, same = [], []
        for i in range(args.repeat):
            # a new version each time: new DAG file, loaded by the dag-processor
            text = pipeline.read_text().replace(f"name: bench-{tag}\n",
                                                f"name: bench-{tag}-{i}\n", 1)
            variant = pipeline.with_name(f"bench-{tag}-{i}.pipeline.yaml")
            variant.write_text(text)
            new_versions.append(airflow_run(h, env, variant, f"ml-ship.bench-{tag}-{i}.v1"))
            same.append(airflow_run(h, env, pipeline, dag_id))
        docker = [docker_run(env, pipeline) for _ in range(args.repeat)]
    finally:
        h.stop()
        shutil.rmtree(root, ignore_errors=True)

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    n = args.steps
    print(f"airflow backend, {n}-step chain, {args.repeat} runs each (medians); "
          f"Airflow up in {up:.1f} s")
    report([
        ("warm-up run (fresh worker), CLI -> DAG run started",
         f"{warm['dag_run_started']:.1f} s; whole run {warm['total']:.1f} s"),
        ("new version: CLI -> DAG run started", f"{med(new_versions, 'dag_run_started'):.1f} s"),
        ("known version: CLI -> DAG run started", f"{med(same, 'dag_run_started'):.1f} s"),
        ("  (the CLI call itself)", f"{med(same, 'cli'):.1f} s"),
        ("whole chain on airflow (known version)", f"{med(same, 'total'):.1f} s"),
        ("whole chain on docker, same images", f"{statistics.median(docker):.1f} s"),
        ("added per step: (airflow - docker) / steps",
         f"{(med(same, 'total') - statistics.median(docker)) / n:.1f} s"),
        ("Airflow task queued -> running", f"{med(same, 'queued_to_running'):.1f} s"),
        ("Airflow task duration / our step's duration",
         f"{med(same, 'task'):.1f} s / {med(same, 'step_record'):.1f} s"),
    ])


if __name__ == "__main__":
    main()
