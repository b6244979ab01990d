"""DAG runs Airflow started on its own, mirrored into our records.

A shipped pipeline's or job's DAG runs when we trigger it, and also when Airflow does: its
schedule (``schedule:`` of a pipeline, ``metadata.ml_ship.schedule`` of a job), a click on
"Trigger" in its UI, a call to its API. ``discover`` finds those DAG runs (one request: every
``ml-ship.*`` DAG's runs of the last day) and records each once, so it shows in the lab and the
CLI like a run we started:

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
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select

from ...errors import BadInput, ShipError
from ...store.files import create_new
from .mirror import _log, _set_run, folder
from .sync import STATE

if TYPE_CHECKING:
    from ...core.service import ShipService
    from ..airflow import AirflowBackend

LOOKBACK = timedelta(days=1)
ADOPTED = "airflow-adopted"
#: seconds after which an empty claim is taken to belong to a process that died
STALE_CLAIM = 120.0
#: ``ml-ship.<pipeline>.v<N>`` and ``ml-ship.job.<job>.v<N>`` (see ``dag.dag_id``)
_DAG_ID = re.compile(r"^ml-ship\.(?:(?P<job>job)\.)?(?P<name>[a-z0-9][a-z0-9-]*)\.v(?P<n>\d+)$")


def parse_dag_id(dag_id: str) -> tuple[str, str, int] | None:
    """(kind, name, version) of one of our DAG ids, else None."""
    m = _DAG_ID.match(dag_id)
    if m is None:
        return None
    return ("job" if m["job"] else "pipeline"), m["name"], int(m["n"])


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


def discover(backend: AirflowBackend, svc: ShipService) -> list[str]:
    """Record the DAG runs of our DAGs that Airflow started; returns the new run ids (pipeline
    runs and job runs)."""
    from ..airflow import dag_run_id as ours

    since = datetime.now(timezone.utc) - LOOKBACK
    found = []
    for dag_run in backend.client().dag_runs("ml-ship.", since):
        dag_id, dr_id = str(dag_run.get("dag_id")), str(dag_run.get("dag_run_id"))
        parsed = parse_dag_id(dag_id)
        if parsed is None or dr_id.startswith(ours("")):
            continue  # not one of our DAGs, or a DAG run we triggered
        claimed = _claim(svc, dag_id, dr_id)
        if claimed is None:
            continue
        claim, taken_over = claimed
        kind, name, version = parsed
        earlier = _recorded(svc, kind, dag_id, dr_id) if taken_over else None
        if earlier is not None:  # its process died after recording it, before saying so
            claim.write_text(json.dumps({"run_id": earlier}))
            continue
        try:
            if kind == "pipeline":
                run_id = _adopt_pipeline(svc, name, version, dag_id, dag_run)
            else:
                run_id = _adopt_job(svc, name, version, dag_id, dag_run)
        except ShipError as exc:  # e.g. a DAG another home shipped: not ours to show
            claim.write_text(json.dumps({"skipped": exc.message}))
            continue
        claim.write_text(json.dumps({"run_id": run_id}))
        found.append(run_id)
    return found


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


def _when(dag_run: dict[str, Any]) -> datetime | None:
    value = dag_run.get("run_after") or dag_run.get("start_date")
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def _check_after(dag_run: dict[str, Any], shipped: datetime, what: str) -> None:
    when = _when(dag_run)
    if when is not None and when < shipped:
        raise BadInput(f"DAG run {dag_run.get('dag_run_id')} began before {what} was shipped "
                       "in this home")


def _adopt_pipeline(svc: ShipService, name: str, version: int, dag_id: str,
                    dag_run: dict[str, Any]) -> str:
    from ...core.engine import runs
    from ...core.engine.versions import version_row
    from ...store.files import atomic_write_json

    with svc.store.session() as s:
        row = version_row(s, name, version)
        declared, shipped = dict(row.spec.get("parameters") or {}), row.created_at
    _check_after(dag_run, shipped, f"pipeline {name} v{version}")
    params, left_out = _parameters(declared, dag_run.get("conf"))
    run_id = runs.create(svc, name, version, params, "airflow", use_cache=False,
                         parallelism=None)
    dr_id = str(dag_run["dag_run_id"])
    atomic_write_json(folder(svc, run_id) / STATE, {
        "phase": "triggered", "dag_id": dag_id, "dag_run_id": dr_id})
    _set_run(svc, run_id, ("queued",), status="running", started_at=_when(dag_run))
    _log(svc, run_id, f"[ml-ship] DAG run {dr_id} of {dag_id} was started by Airflow "
                      f"({dag_run.get('run_type') or 'unknown'}): "
                      f"{cast('AirflowBackend', svc.backend('airflow')).ui_url(dag_id, dr_id)}")
    if left_out:
        _log(svc, run_id, f"[ml-ship] its conf keys {', '.join(left_out)} are not parameters "
                          f"of {name} v{version}: left out")
    svc.resume_pipeline_run(run_id)  # a scheduler follows it from here
    return run_id


def _adopt_job(svc: ShipService, name: str, version: int, dag_id: str,
               dag_run: dict[str, Any]) -> str:
    info = svc.version(name, version)
    _check_after(dag_run, info.created_at, f"{name} v{version}")
    params, _ = _parameters({p.name: p for p in info.parameters}, dag_run.get("conf"))
    task = {"dag_id": dag_id, "dag_run_id": str(dag_run["dag_run_id"]), "task_id": name}
    return svc.run(name, version, params, "airflow", overrides={"airflow_task": task}).id

