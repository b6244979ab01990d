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
pipeline, the pipeline run's mirror log says which). Each DAG run is claimed once, across
processes, by a file created with ``O_EXCL`` in ``HOME/<adopted>/`` (a folder the backend names:
``MirrorFiles.adopted``, Airflow's ``airflow-adopted``); a claim left empty by
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
from typing import Any

from sqlalchemy import select

from ...backends.base import Backend, DiscoveredRun
from ...errors import BadInput, ShipError
from ...store.files import atomic_write_json, create_new, read_json
from ...store.schema import PipelineRun, Run
from ..context import ShipContext
from . import pipeline_runs
from .mirror import _set_run, files_of, folder, log
from .versions import version_row

#: seconds after which an empty claim is taken to belong to a process that died
STALE_CLAIM = 120.0


def _claim(claims: Path, dag_id: str, dag_run_id: str) -> tuple[Path, bool] | None:
    """This process records the DAG run (None: another one has, or is doing so), and whether
    it took the claim over: a claim left empty for ``STALE_CLAIM`` (its process died) is taken
    over by one process, the one whose rename of it succeeds. ``claims``: the folder of them
    (the backend names it, ``MirrorFiles.adopted``)."""
    key = hashlib.sha256(f"{dag_id}\0{dag_run_id}".encode()).hexdigest()[:32]
    path = claims / key
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


def record(ctx: ShipContext, backend: Backend, found: list[DiscoveredRun]) -> list[str]:
    """Record the runs a backend started itself (``Backend.started_runs``); returns the new
    run ids (pipeline runs and job runs)."""
    recorded = []
    for d in found:
        claimed = _claim(ctx.home / files_of(backend).adopted, d.dag_id, d.dag_run_id)
        if claimed is None:
            continue
        claim, taken_over = claimed
        earlier = _recorded(ctx, backend, d.kind, d.dag_id, d.dag_run_id) if taken_over \
            else None
        if earlier is not None:  # its process died after recording it, before saying so
            claim.write_text(json.dumps({"run_id": earlier}))
            continue
        try:
            if d.kind == "pipeline":
                run_id = _adopt_pipeline(ctx, backend, d)
            else:
                run_id = _adopt_job(ctx, backend, d)
        except ShipError as exc:  # e.g. a DAG another home shipped: not ours to show
            claim.write_text(json.dumps({"skipped": exc.message}))
            continue
        claim.write_text(json.dumps({"run_id": run_id}))
        recorded.append(run_id)
    return recorded


def _recorded(ctx: ShipContext, backend: Backend, kind: str, dag_id: str,
              dag_run_id: str) -> str | None:
    """The run (or pipeline run) already recorded for a DAG run, if there is one: asked only
    when a claim was taken over, so a process that died after recording a DAG run but before
    writing its claim does not get it recorded twice."""
    wanted = (dag_id, dag_run_id)
    with ctx.store.session() as s:
        if kind == "job":  # its task, in the row or (not stored yet) in the run's state file
            rows = list(s.execute(select(Run.id, Run.backend_ref, Run.run_dir).where(
                Run.backend == backend.name, Run.pipeline_run_id.is_(None))))
            for run_id, ref, run_dir in rows:
                ref = ref or backend.started_ref(Path(run_dir))
                if (ref.get("dag_id"), ref.get("dag_run_id")) == wanted:
                    return str(run_id)
            return None
        ids = list(s.scalars(select(PipelineRun.id).where(PipelineRun.backend == backend.name)))
    for run_id in ids:
        state = read_json(folder(ctx, run_id) / files_of(backend).state) or {}
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


def _adopt_pipeline(ctx: ShipContext, backend: Backend, d: DiscoveredRun) -> str:
    with ctx.store.session() as s:
        row = version_row(s, d.name, d.version)
        declared, shipped = dict(row.spec.get("parameters") or {}), row.created_at
    _check_after(d, shipped, f"pipeline {d.name} v{d.version}")
    params, left_out = _parameters(declared, d.conf)
    run_id = pipeline_runs.create(ctx, d.name, d.version, params, backend.name,
                                  use_cache=False, parallelism=None)
    atomic_write_json(folder(ctx, run_id) / files_of(backend).state, {
        "phase": "triggered", "dag_id": d.dag_id, "dag_run_id": d.dag_run_id})
    _set_run(ctx, run_id, ("queued",), status="running", started_at=d.started_at)
    log(backend, ctx, run_id, f"[ml-ship] DAG run {d.dag_run_id} of {d.dag_id} was started by "
                              f"{backend.name} ({d.how or 'unknown'}): {d.url}")
    if left_out:
        log(backend, ctx, run_id, f"[ml-ship] its conf keys {', '.join(left_out)} are not "
                                  f"parameters of {d.name} v{d.version}: left out")
    ctx.resume_pipeline_run(run_id)  # a scheduler follows it from here
    return run_id


def _adopt_job(ctx: ShipContext, backend: Backend, d: DiscoveredRun) -> str:
    info = ctx.version(d.name, d.version)
    _check_after(d, info.created_at, f"{d.name} v{d.version}")
    params, _ = _parameters({p.name: p for p in info.parameters}, d.conf)
    return ctx.run(d.name, d.version, params, backend.name,
                   overrides=backend.bind_task(d.dag_id, d.dag_run_id, d.name),
                   started_by=backend.name).id
