"""Executing a pipeline run: ``advance()`` moves it one step forward from what the store says.

``advance`` is idempotent and safe to call from several processes at once (a scheduler process,
the server's reconciler, a CLI): a step leaves ``pending`` only through a conditional UPDATE
(``WHERE status = 'pending'``), so exactly one caller starts it. All state is in the store, so
a new process picks up where a dead one stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from ..core._runs import new_run_id
from ..core.models import TERMINAL_STATUSES, RunError
from ..core.naming import validate_parameters
from ..errors import BadInput, Conflict, NotFound, ShipError
from ..store.schema import PipelineRun, PipelineStep, Run, utcnow
from . import templates
from .models import (
    PIPELINE_DONE,
    STEP_ACTIVE,
    STEP_BLOCKING,
    STEP_DONE,
    PipelineRunInfo,
    StepInfo,
)
from .versions import version_row

if TYPE_CHECKING:
    from ..core.service import ShipService

#: a step claimed this long ago with no run recorded was lost by a dying process: retry it
STALE_CLAIM = timedelta(seconds=60)


def cache_key(digest: str, parameters: dict[str, Any]) -> str:
    """Steps with the same job version and resolved parameters give the same outputs."""
    payload = json.dumps({"digest": digest, "parameters": parameters}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def default_parallelism(svc: ShipService) -> int:
    return svc.settings.parallelism or os.cpu_count() or 1


# ---- create ---------------------------------------------------------------------------------


def create(svc: ShipService, name: str, version: int | None, parameters: dict[str, Any] | None,
           backend: str | None, use_cache: bool, parallelism: int | None) -> str:
    """A queued pipeline run with one pending step per step; checks parameters first."""
    if parallelism is not None and parallelism < 1:
        raise BadInput(f"parallelism must be at least 1, got {parallelism}")
    if backend is not None:
        svc.backend(backend)  # unknown or disabled: BadInput now, not in every step
    with svc.store.session() as s:
        v = version_row(s, name, version)
        spec = v.spec
        defaults = spec.get("parameters") or {}
        unknown = sorted(set(parameters or {}) - set(defaults))
        if unknown:
            raise BadInput(f"pipeline {name} v{v.number}: unknown parameter {unknown[0]!r} "
                           f"(parameters: {', '.join(defaults) or 'none'})")
        params = {**defaults, **(parameters or {})}
        ctx = templates.context(params, {})
        for sid, st in spec["steps"].items():
            where = f"pipeline {name} v{v.number}: steps.{sid}.parameters"
            refs = templates.find_refs(st.get("parameters") or {}, where)
            if any(r.kind == "steps" for _, r in refs):
                continue  # checked when its upstream outputs are known
            resolved = templates.render(st.get("parameters") or {}, ctx, where)
            job_version = svc._version(s, st["job"], st["version"])
            validate_parameters(job_version.parameters, resolved, where,
                                svc.settings.max_request_bytes)
        run_id = new_run_id()
        s.add(PipelineRun(
            id=run_id, pipeline_id=v.pipeline_id, version_id=v.id, version_number=v.number,
            status="queued", parameters=params, backend=backend,
            parallelism=parallelism or default_parallelism(svc), use_cache=use_cache,
            created_at=utcnow(),
        ))
        s.flush()
        for sid, st in spec["steps"].items():
            s.add(PipelineStep(pipeline_run_id=run_id, step=sid, job=st["job"],
                               version_number=st["version"], status="pending",
                               parameters={}, outputs={}))
    return run_id


# ---- advance --------------------------------------------------------------------------------


def advance(svc: ShipService, run_id: str) -> PipelineRunInfo:
    """Reconcile running steps, skip what cannot run, start what can, finish when all ended."""
    step_pass(svc, run_id)
    return info(svc, run_id)


def step_pass(svc: ShipService, run_id: str,
              only: set[str] | None = None) -> tuple[str, dict[str, Path]]:
    """One scheduling pass; ``only``: reconcile just these runs (those known to have ended).

    Returns the pipeline run's status and the result files of its active runs (what the
    scheduler process watches until the next pass).
    """
    with svc.store.session() as s:
        pr = _pipeline_run(s, run_id)
        status, spec = pr.status, pr.version.spec
        rows = {st.step: st for st in pr.steps}
        if status in PIPELINE_DONE and not any(r.status in STEP_ACTIVE for r in rows.values()):
            return status, {}
        steps = {sid: _Snap(r) for sid, r in rows.items()}
        settings = dict(params=pr.parameters, backend=pr.backend, parallelism=pr.parallelism,
                        use_cache=pr.use_cache)
    engine = pipeline_engine(svc, settings["backend"])
    if engine is not None:  # the backend schedules the whole run itself (Airflow: a DAG run)
        engine.advance_pipeline_run(svc, run_id)
        with svc.store.session() as s:
            pr = _pipeline_run(s, run_id)
            status, steps = pr.status, {r.step: _Snap(r) for r in pr.steps}
        return status, _result_files(svc, steps)
    for snap in steps.values():
        if snap.status in STEP_ACTIVE and (only is None or snap.run_id is None
                                           or snap.run_id in only):
            _refresh(svc, run_id, snap, cancelled=status == "cancelled")
    if status == "queued":
        with svc.store.session() as s:
            s.execute(update(PipelineRun).where(PipelineRun.id == run_id,
                                                PipelineRun.status == "queued")
                      .values(status="running", started_at=utcnow()))
        status = "running"
    if status == "running":
        # a cached step ends at once and may make its descendants ready: plan until stable
        while _plan(svc, run_id, spec, steps, settings):
            pass
        status = _finish_if_done(svc, run_id, spec, steps) or status
    return status, _result_files(svc, steps)


def _result_files(svc: ShipService, steps: dict[str, _Snap]) -> dict[str, Path]:
    """The result files of the active steps' runs (what the scheduler process watches)."""
    active = [x.run_id for x in steps.values() if x.status in STEP_ACTIVE and x.run_id]
    with svc.store.session() as s:
        dirs = s.execute(select(Run.id, Run.run_dir).where(Run.id.in_(active))).all()
    return {rid: Path(d) / "result.json" for rid, d in dirs}


def pipeline_engine(svc: ShipService, backend: str | None) -> Any:
    """The backend of a pipeline run if it schedules whole pipeline runs itself, else None.

    Such a backend (``airflow``) has ``advance_pipeline_run(svc, run_id)``, called instead of
    our own planning, and ``cancel_pipeline_run(svc, run_id)``.
    """
    try:
        impl = svc.backend(backend or svc.settings.default_backend)
    except ShipError:
        return None
    return impl if hasattr(impl, "advance_pipeline_run") else None


def _plan(svc: ShipService, run_id: str, spec: dict[str, Any], steps: dict[str, _Snap],
          settings: dict[str, Any]) -> bool:
    """Skip blocked steps, start ready ones; True if some step ended without occupying a slot."""
    for sid in _topological(spec):  # an upstream step is marked before its descendants
        snap, deps = steps[sid], spec["steps"][sid].get("depends_on") or []
        blocked = [d for d in deps if steps[d].status in STEP_BLOCKING]
        if snap.status == "pending" and blocked:
            why = f"upstream step {blocked[0]} {steps[blocked[0]].status}"
            _move(svc, snap, "pending", "skipped", error={"message": why, "ename": "Skipped"},
                  ended_at=utcnow())
    free = settings["parallelism"] - sum(1 for x in steps.values() if x.status in STEP_ACTIVE)
    changed = False
    for sid in _ready(spec, steps):
        if free <= 0:
            break
        if _launch(svc, run_id, spec, steps, sid, settings):
            free -= 1
        elif steps[sid].status in STEP_DONE:
            changed = True
    return changed


class _Snap:
    """What advance() knows of a step row (read in one session, updated as it goes)."""

    def __init__(self, row: PipelineStep):
        self.id, self.step, self.status = row.id, row.step, row.status
        self.run_id, self.outputs = row.run_id, dict(row.outputs or {})
        self.claimed_at = row.claimed_at


def _pipeline_run(s: Any, run_id: str) -> PipelineRun:
    pr = s.get(PipelineRun, run_id)
    if pr is None:
        raise NotFound(f"no pipeline run with id {run_id!r}")
    return pr


def _move(svc: ShipService, snap: _Snap, old: str | tuple[str, ...], new: str,
          **values: Any) -> bool:
    """``old → new`` only if the row is still ``old`` (the guard that makes advance safe)."""
    olds = (old,) if isinstance(old, str) else old
    with svc.store.session() as s:
        done = s.execute(update(PipelineStep)
                         .where(PipelineStep.id == snap.id, PipelineStep.status.in_(olds))
                         .values(status=new, **values)).rowcount
    if done:
        snap.status = new
    return bool(done)


def _refresh(svc: ShipService, run_id: str, snap: _Snap, cancelled: bool) -> None:
    """Bring an active step up to date with its run (or adopt / release a lost claim)."""
    if snap.run_id is None:
        with svc.store.session() as s:
            found = s.scalars(select(Run.id).where(Run.pipeline_run_id == run_id,
                                                   Run.step == snap.step)).first()
        if found is None:
            claimed = snap.claimed_at or utcnow()
            if datetime.now(timezone.utc) - claimed > STALE_CLAIM:
                _move(svc, snap, "starting", "pending", claimed_at=None)
            return
        with svc.store.session() as s:
            s.execute(update(PipelineStep).where(PipelineStep.id == snap.id,
                                                 PipelineStep.run_id.is_(None))
                      .values(run_id=found))
        snap.run_id = found
    run = svc.get_run(snap.run_id)
    if cancelled and run.status not in TERMINAL_STATUSES:
        try:
            run = svc.cancel(snap.run_id)
        except Conflict:
            run = svc.get_run(snap.run_id)
    if run.status == snap.status:
        return
    values: dict[str, Any] = {"started_at": run.started_at}
    if run.status in TERMINAL_STATUSES:
        values.update(outputs=run.outputs, ended_at=run.ended_at or utcnow(),
                      error=run.error.model_dump(exclude_none=True) if run.error else None)
        snap.outputs = dict(run.outputs)
    _move(svc, snap, tuple(STEP_ACTIVE), run.status, **values)


def _ready(spec: dict[str, Any], steps: dict[str, _Snap]) -> list[str]:
    return [sid for sid, st in spec["steps"].items() if steps[sid].status == "pending"
            and all(steps[d].status == "succeeded" for d in st.get("depends_on") or [])]


def _launch(svc: ShipService, run_id: str, spec: dict[str, Any], steps: dict[str, _Snap],
            sid: str, settings: dict[str, Any]) -> bool:
    """Start one ready step (or reuse a cached result); True if it now occupies a slot."""
    snap, st = steps[sid], spec["steps"][sid]
    upstream = {d: steps[d].outputs for d in _upstream(spec, sid)}
    where = f"steps.{sid}.parameters"
    try:
        params = templates.render(st.get("parameters") or {},
                                  templates.context(settings["params"], upstream), where)
    except BadInput as exc:
        _move(svc, snap, "pending", "failed", ended_at=utcnow(),
              error={"message": exc.message, "ename": "ParameterError"})
        return False
    key = cache_key(st["digest"], params)
    if settings["use_cache"]:
        with svc.store.session() as s:
            hit = s.scalars(select(PipelineStep).where(
                PipelineStep.cache_key == key, PipelineStep.status == "succeeded",
            ).order_by(PipelineStep.ended_at.desc()).limit(1)).first()
            hit_values = hit and dict(run_id=hit.run_id, outputs=hit.outputs)
        if hit_values:
            now = utcnow()
            if _move(svc, snap, "pending", "succeeded", cached=True, cache_key=key,
                     parameters=params, started_at=now, ended_at=now, **hit_values):
                snap.outputs = dict(hit_values["outputs"] or {})
            return False
    if not _move(svc, snap, "pending", "starting", claimed_at=utcnow(), parameters=params,
                 cache_key=key):
        return False  # another process got there first
    overrides = {k: st[k] for k in ("retries", "timeout") if st.get(k) is not None}
    try:
        run = svc.run(st["job"], st["version"], params, st.get("backend") or settings["backend"],
                      pipeline_run_id=run_id, step=sid, overrides=overrides)
    except Exception as exc:  # a step that cannot start fails; its branch is skipped
        message = exc.message if isinstance(exc, ShipError) else f"{type(exc).__name__}: {exc}"
        _move(svc, snap, "starting", "failed", ended_at=utcnow(),
              error={"message": f"could not start: {message}", "ename": type(exc).__name__})
        return False
    with svc.store.session() as s:
        s.execute(update(PipelineStep).where(PipelineStep.id == snap.id)
                  .values(run_id=run.id, started_at=run.started_at))
        s.execute(update(PipelineStep).where(PipelineStep.id == snap.id,
                                             PipelineStep.status == "starting")
                  .values(status=run.status))
        cancelled = s.scalar(select(PipelineRun.status).where(PipelineRun.id == run_id)) \
            == "cancelled"
    snap.run_id, snap.status = run.id, run.status
    if cancelled:  # cancel() ran while this step was being started
        _refresh(svc, run_id, snap, cancelled=True)
    return True


def _topological(spec: dict[str, Any]) -> list[str]:
    done: list[str] = []
    while len(done) < len(spec["steps"]):
        for sid, st in spec["steps"].items():
            if sid not in done and all(d in done for d in st.get("depends_on") or []):
                done.append(sid)
    return done


def _upstream(spec: dict[str, Any], sid: str) -> set[str]:
    seen: set[str] = set()
    todo = list(spec["steps"][sid].get("depends_on") or [])
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(spec["steps"][d].get("depends_on") or [])
    return seen


def _finish_if_done(svc: ShipService, run_id: str, spec: dict[str, Any],
                    steps: dict[str, _Snap]) -> str | None:
    """The final status once every step ended (None before)."""
    if not all(x.status in STEP_DONE for x in steps.values()):
        return None
    bad = [sid for sid in spec["steps"] if steps[sid].status in STEP_BLOCKING - {"skipped"}]
    error = None
    if bad:
        with svc.store.session() as s:
            row = s.get(PipelineStep, steps[bad[0]].id)
            why = (row.error or {}).get("message") or steps[bad[0]].status
        error = {"message": f"step {bad[0]} {steps[bad[0]].status}: {why}", "ename": "StepFailed"}
    final = "failed" if bad else "succeeded"
    with svc.store.session() as s:
        s.execute(update(PipelineRun)
                  .where(PipelineRun.id == run_id, PipelineRun.status.in_(("queued", "running")))
                  .values(status=final, ended_at=utcnow(), error=error))
    return final


# ---- cancel and read ------------------------------------------------------------------------


def cancel(svc: ShipService, run_id: str) -> PipelineRunInfo:
    """Stop a pipeline run: no new steps, running steps cancelled, pending ones ``cancelled``."""
    now = utcnow()
    with svc.store.session() as s:
        pr = _pipeline_run(s, run_id)
        if pr.status in PIPELINE_DONE and pr.status != "cancelled":
            raise Conflict(f"pipeline run {run_id} already ended ({pr.status}); nothing to cancel")
        s.execute(update(PipelineRun)
                  .where(PipelineRun.id == run_id, PipelineRun.status.in_(("queued", "running")))
                  .values(status="cancelled", ended_at=now,
                          error={"message": "cancelled by user", "ename": "Cancelled"}))
        engine = pipeline_engine(svc, pr.backend)
    if engine is not None:  # stops the run there, and its steps that have no run yet
        engine.cancel_pipeline_run(svc, run_id)
    with svc.store.session() as s:
        s.execute(update(PipelineStep)
                  .where(PipelineStep.pipeline_run_id == run_id, PipelineStep.status == "pending")
                  .values(status="cancelled", ended_at=now,
                          error={"message": "the pipeline run was cancelled",
                                 "ename": "Cancelled"}))
        active = [_Snap(r) for r in s.scalars(select(PipelineStep).where(
            PipelineStep.pipeline_run_id == run_id, PipelineStep.status.in_(STEP_ACTIVE)))]
    for snap in active:
        _refresh(svc, run_id, snap, cancelled=True)
    return info(svc, run_id)


def info(svc: ShipService, run_id: str) -> PipelineRunInfo:
    with svc.store.session() as s:
        return run_info(_pipeline_run(s, run_id))


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
            declared_outputs=st.get("outputs"), status=row.status,  # type: ignore[arg-type]
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
        ended_at=pr.ended_at, duration=_duration(pr.started_at, pr.ended_at,
                                                 pr.status in PIPELINE_DONE),
        error=RunError(**pr.error) if pr.error else None, steps=steps,
    )
