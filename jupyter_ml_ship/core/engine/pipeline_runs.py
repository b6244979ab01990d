"""Pipeline runs: create one, advance it, cancel it, read it (``PipelineRunInfo``).

The scheduling itself — one idempotent pass over a run — is ``executor.step_pass``, or, on a
backend that schedules pipeline runs itself (``Backend.orchestrates_pipelines``: Airflow),
``mirror.step_pass``; ``scheduling_of`` makes that choice, here and only here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from ...backends import Backend
from ...errors import BadInput, Conflict, ShipError
from ...models import RunError
from ...naming import validate_parameters
from ...pipelines import templates
from ...pipelines.models import PIPELINE_DONE, STEP_ACTIVE, STEP_DONE, PipelineRunInfo, StepInfo
from ...store.schema import PipelineRun, PipelineStep, utcnow
from ..context import ShipContext
from ..notifications import deliveries_of
from ..rows import job_version_row, new_run_id
from . import executor, mirror
from .executor import _pipeline_run, _refresh, _Snap
from .versions import version_row

#: one scheduling pass over a pipeline run: ``(only) -> (status, result files to watch)``
StepPass = Callable[[set[str] | None], tuple[str, dict[str, Path]]]


def orchestrator_of(ctx: ShipContext, backend: str | None) -> Backend | None:
    """The backend of a pipeline run if it schedules whole pipeline runs itself (its declared
    capability, ``orchestrates_pipelines``), else None: our executor schedules it."""
    try:
        impl = ctx.backend(backend or ctx.settings.default_backend)
    except ShipError:
        return None
    return impl if impl.orchestrates_pipelines else None


def scheduling_of(ctx: ShipContext, run_id: str) -> StepPass:
    """How a pipeline run moves forward, chosen once from its backend: our executor's pass, or
    the mirror's of the run the backend schedules (a run that is gone: the executor's pass,
    which says so)."""
    with ctx.store.session() as s:
        row = s.execute(select(PipelineRun.backend).where(PipelineRun.id == run_id)).first()
    orchestrator = orchestrator_of(ctx, row[0]) if row is not None else None
    if orchestrator is None:
        return partial(executor.step_pass, ctx, run_id)
    return partial(mirror.step_pass, orchestrator, ctx, run_id)


def default_parallelism(ctx: ShipContext) -> int:
    return ctx.settings.parallelism or os.cpu_count() or 1



def create(ctx: ShipContext, name: str, version: int | None, parameters: dict[str, Any] | None,
           backend: str | None, use_cache: bool, parallelism: int | None,
           started_by: str = "") -> str:
    """A queued pipeline run with one pending step per step; checks parameters first."""
    if parallelism is not None and parallelism < 1:
        raise BadInput(f"parallelism must be at least 1, got {parallelism}")
    if backend is not None:
        ctx.backend(backend)  # unknown or disabled: BadInput now, not in every step
    with ctx.store.session() as s:
        v = version_row(s, name, version)
        spec = v.spec
        defaults = spec.get("parameters") or {}
        unknown = sorted(set(parameters or {}) - set(defaults))
        if unknown:
            raise BadInput(f"pipeline {name} v{v.number}: unknown parameter {unknown[0]!r} "
                           f"(parameters: {', '.join(defaults) or 'none'})")
        params = {**defaults, **(parameters or {})}
        values = templates.context(params, {})
        for sid, st in spec["steps"].items():
            where = f"pipeline {name} v{v.number}: steps.{sid}.parameters"
            refs = templates.find_refs(st.get("parameters") or {}, where)
            if any(r.upstream for _, r in refs):
                continue  # checked when its upstream outputs are known
            resolved = templates.render(st.get("parameters") or {}, values, where)
            job_version = job_version_row(s, st["job"], st["version"])
            validate_parameters(job_version.parameters, resolved, where,
                                ctx.settings.max_request_bytes)
        run_id = new_run_id()
        s.add(PipelineRun(
            id=run_id, pipeline_id=v.pipeline_id, version_id=v.id, version_number=v.number,
            status="queued", parameters=params, backend=backend,
            parallelism=parallelism or default_parallelism(ctx), use_cache=use_cache,
            created_at=utcnow(), started_by=started_by,
        ))
        s.flush()
        for sid, st in spec["steps"].items():
            s.add(PipelineStep(pipeline_run_id=run_id, step=sid, job=st["job"],
                               version_number=st["version"], status="pending",
                               parameters={}, outputs={}))
    return run_id


def advance(ctx: ShipContext, run_id: str) -> PipelineRunInfo:
    """Reconcile running steps, skip what cannot run, start what can, finish when all ended."""
    scheduling_of(ctx, run_id)(None)
    return info(ctx, run_id)



def cancel(ctx: ShipContext, run_id: str) -> PipelineRunInfo:
    """Stop a pipeline run: no new steps, running steps cancelled, pending ones ``cancelled``."""
    now = utcnow()
    with ctx.store.session() as s:
        pr = _pipeline_run(s, run_id)
        if pr.status in PIPELINE_DONE and pr.status != "cancelled":
            raise Conflict(f"pipeline run {run_id} already ended ({pr.status}); nothing to cancel")
        s.execute(update(PipelineRun)
                  .where(PipelineRun.id == run_id, PipelineRun.status.in_(("queued", "running")))
                  .values(status="cancelled", ended_at=now,
                          error={"message": "cancelled by user", "ename": "Cancelled"}))
        orchestrator = orchestrator_of(ctx, pr.backend)
    if orchestrator is not None:  # stops the run there, and its steps that have no run yet
        mirror.cancel(orchestrator, ctx, run_id)
    with ctx.store.session() as s:
        s.execute(update(PipelineStep)
                  .where(PipelineStep.pipeline_run_id == run_id, PipelineStep.status == "pending")
                  .values(status="cancelled", ended_at=now,
                          error={"message": "the pipeline run was cancelled",
                                 "ename": "Cancelled"}))
        active = [_Snap(r) for r in s.scalars(select(PipelineStep).where(
            PipelineStep.pipeline_run_id == run_id, PipelineStep.status.in_(STEP_ACTIVE)))]
    _refresh(ctx, run_id, active, cancelled=True)
    return info(ctx, run_id)


def info(ctx: ShipContext, run_id: str) -> PipelineRunInfo:
    """One pipeline run, with its notifications (listings leave them out: one query more)."""
    with ctx.store.session() as s:
        out = run_info(_pipeline_run(s, run_id))
        out.notifications = deliveries_of(s, run_id)
        return out


def _duration(start: datetime | None, end: datetime | None, done: bool) -> float | None:
    if start is None:
        return None
    end = end or (None if done else datetime.now(timezone.utc))
    return None if end is None else max(0.0, (end - start).total_seconds())


def run_info(pr: PipelineRun) -> PipelineRunInfo:
    spec_steps = pr.version.spec.get("steps") or {}
    steps = []
    for row in pr.steps:
        st = spec_steps.get(row.step) or {}
        steps.append(StepInfo(
            id=row.step, job=row.job, version=row.version_number, notebook=st.get("notebook"),
            depends_on=st.get("depends_on") or [],
            parameters=row.parameters if row.status != "pending" else st.get("parameters") or {},
            retries=st.get("retries"), timeout=st.get("timeout"), backend=st.get("backend"),
            cache=st.get("cache", True), checks=st.get("checks"),
            on_degraded="stop" if st.get("on_degraded") == "stop" else "continue",
            spark=st.get("spark"), declared_outputs=st.get("outputs"), status=row.status,  # type: ignore[arg-type]
            run_id=row.run_id, cached=row.cached, outputs=row.outputs or {},
            error=RunError(**row.error) if row.error else None,
            started_at=row.started_at, ended_at=row.ended_at,
            duration=_duration(row.started_at, row.ended_at, row.status in STEP_DONE),
        ))
    order = {sid: i for i, sid in enumerate(spec_steps)}
    steps.sort(key=lambda x: order.get(x.id, len(order)))
    return PipelineRunInfo(
        id=pr.id, pipeline=pr.pipeline.name, version=pr.version_number,
        status=pr.status,  # type: ignore[arg-type]
        parameters=pr.parameters or {}, backend=pr.backend, parallelism=pr.parallelism,
        use_cache=pr.use_cache, created_at=pr.created_at, started_at=pr.started_at,
        started_by=pr.started_by or "",
        ended_at=pr.ended_at, duration=_duration(pr.started_at, pr.ended_at,
                                                 pr.status in PIPELINE_DONE),
        error=RunError(**pr.error) if pr.error else None, steps=steps,
    )
