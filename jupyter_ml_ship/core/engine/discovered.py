"""Runs an orchestrating backend started on its own (Airflow's DAG runs), recorded once.

A shipped pipeline's or job's DAG runs when we trigger it, and also when Airflow does: its
schedule (``schedule:`` of a pipeline, ``metadata.ml_ship.schedule`` of a job), a click on
"Trigger" in its UI, a call to its API. The backend reports them (``Backend.started_runs``:
typed ``DiscoveredRun`` observations, no store); ``record`` here makes each a run of ours, once,
so it shows in the lab and the CLI like a run we started:

- a pipeline's DAG run becomes a pipeline run in phase ``triggered`` (``mirror`` follows it step
  by step from there, as it follows the DAG runs we trigger);
- a job's DAG run becomes a run of that job version bound to the DAG run's task.

The DAG run's conf gives the parameters (its keys that are not parameters are left out; for a
pipeline, the pipeline run's ``airflow.log`` says which). Each DAG run is claimed once, across
processes, by a file created with ``O_EXCL`` in ``HOME/airflow-adopted/``; a claim left empty by
a process that died is taken over, after a look for what that process may have recorded. DAG
runs of DAGs this home never shipped, and those that began before it shipped that version
(another home's, on a shared Airflow), are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ...backends.base import DiscoveredRun
from ...errors import BadInput, ShipError
from ...store.files import atomic_write_json, create_new
from .orchestrated import STATE, _log, _set_run, folder

if TYPE_CHECKING:
    from ..service import ShipService

ADOPTED = "airflow-adopted"
#: seconds after which an empty claim is taken to belong to a process that died
STALE_CLAIM = 120.0


def _claim(svc: ShipService, dag_id: str, dag_run_id: str) -> tuple[Path, bool] | None:
    """This process records the DAG run (None: another one has, or is doing so), and whether
    it took the claim over: a claim left empty for ``STALE_CLAIM`` (its process died) is taken
    over by one process, the one whose rename of it succeeds."""
    key = hashlib.sha256(f"{dag_id}\0{dag_run_id}".encode()).hexdigest()[:32]
    path = svc.home / ADOPTED / key
    for attempt in range(2):
        if create_new(path):
            return path, attempt > 0
        try:
            stat = path.stat()
            if stat.st_size or time.time() - stat.st_mtime < STALE_CLAIM:
                return None  # recorded (or skipped), or being recorded now
            os.rename(path, path.with_name(f"{key}.stale-{os.getpid()}"))
        except FileNotFoundError:
            continue  # another process took it over first: try to claim it again
        path.with_name(f"{key}.stale-{os.getpid()}").unlink(missing_ok=True)
    return None


def record(svc: ShipService, backend_name: str, found: list[DiscoveredRun]) -> list[str]:
    """Record the runs a backend started itself; returns the new run ids (pipeline runs and
    job runs)."""
    recorded = []
    for d in found:
        claimed = _claim(svc, d.dag_id, d.dag_run_id)
        if claimed is None:
            continue
        claim, taken_over = claimed
        earlier = _recorded(svc, d.kind, d.dag_id, d.dag_run_id) if taken_over else None
        if earlier is not None:  # its process died after recording it, before saying so
            claim.write_text(json.dumps({"run_id": earlier}))
            continue
        try:
            if d.kind == "pipeline":
                run_id = _adopt_pipeline(svc, backend_name, d)
            else:
                run_id = _adopt_job(svc, backend_name, d)
        except ShipError as exc:  # e.g. a DAG another home shipped: not ours to show
            claim.write_text(json.dumps({"skipped": exc.message}))
            continue
        claim.write_text(json.dumps({"run_id": run_id}))
        recorded.append(run_id)
    return recorded


def _recorded(svc: ShipService, kind: str, dag_id: str, dag_run_id: str) -> str | None:
    """The run (or pipeline run) already recorded for a DAG run, if there is one: asked only
    when a claim was taken over, so a process that died after recording a DAG run but before
    writing its claim does not get it recorded twice."""
    from ...store.files import read_json
    from ...store.schema import PipelineRun, Run

    wanted = (dag_id, dag_run_id)
    with svc.store.session() as s:
        if kind == "job":  # its task, in the row or (not stored yet) in the run's state file
            rows = list(s.execute(select(Run.id, Run.backend_ref, Run.run_dir).where(
                Run.backend == "airflow", Run.pipeline_run_id.is_(None))))
            for run_id, ref, run_dir in rows:
                ref = ref or (read_json(Path(run_dir) / STATE) or {}).get("ref") or {}
                if (ref.get("dag_id"), ref.get("dag_run_id")) == wanted:
                    return str(run_id)
            return None
        ids = list(s.scalars(select(PipelineRun.id).where(PipelineRun.backend == "airflow")))
    for run_id in ids:
        state = read_json(folder(svc, run_id) / STATE) or {}
        if (state.get("dag_id"), state.get("dag_run_id")) == wanted:
            return str(run_id)
    return None


def _parameters(declared: dict[str, Any], conf: Any) -> tuple[dict[str, Any], list[str]]:
    """The DAG run's conf as parameters, and the keys of it that are not parameters."""
    conf = conf if isinstance(conf, dict) else {}
    return {k: v for k, v in conf.items() if k in declared}, sorted(set(conf) - set(declared))


def _check_after(d: DiscoveredRun, shipped: datetime, what: str) -> None:
    if d.started_at is not None and d.started_at < shipped:
        raise BadInput(f"DAG run {d.dag_run_id} began before {what} was shipped in this home")


def _adopt_pipeline(svc: ShipService, backend_name: str, d: DiscoveredRun) -> str:
    from . import pipeline_runs
    from .versions import version_row

    with svc.store.session() as s:
        row = version_row(s, d.name, d.version)
        declared, shipped = dict(row.spec.get("parameters") or {}), row.created_at
    _check_after(d, shipped, f"pipeline {d.name} v{d.version}")
    params, left_out = _parameters(declared, d.conf)
    run_id = pipeline_runs.create(svc, d.name, d.version, params, backend_name, use_cache=False,
                         parallelism=None)
    atomic_write_json(folder(svc, run_id) / STATE, {
        "phase": "triggered", "dag_id": d.dag_id, "dag_run_id": d.dag_run_id})
    _set_run(svc, run_id, ("queued",), status="running", started_at=d.started_at)
    _log(svc, run_id, f"[ml-ship] DAG run {d.dag_run_id} of {d.dag_id} was started by "
                      f"{backend_name} ({d.how or 'unknown'}): {d.url}")
    if left_out:
        _log(svc, run_id, f"[ml-ship] its conf keys {', '.join(left_out)} are not parameters "
                          f"of {d.name} v{d.version}: left out")
    svc.resume_pipeline_run(run_id)  # a scheduler follows it from here
    return run_id


def _adopt_job(svc: ShipService, backend_name: str, d: DiscoveredRun) -> str:
    info = svc.version(d.name, d.version)
    _check_after(d, info.created_at, f"{d.name} v{d.version}")
    params, _ = _parameters({p.name: p for p in info.parameters}, d.conf)
    task = {"dag_id": d.dag_id, "dag_run_id": d.dag_run_id, "task_id": d.name}
    return svc.run(d.name, d.version, params, backend_name, overrides={"airflow_task": task},
                   started_by=backend_name).id
