"""Triggers that fire: new files and upstream successes (the tick's part), a job run's success
(at once), and starting the run a trigger asked for, claimed in ``trigger_fires`` first."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...models import RunInfo
from ...store import Job, Run
from ...store.schema import Pipeline, PipelineRun, Trigger, TriggerFire
from ..environments import environment_version
from ._parse import DEFAULT_PARAMETER, matching_files

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..context import ShipContext

log = logging.getLogger(__name__)

#: the after-triggers catch up on upstream successes this recent (the tick's look back)
LOOK_BACK = timedelta(days=1)


def now() -> datetime:
    return datetime.now(timezone.utc)


def start_run(ctx: ShipContext, target: str, name: str, env: str,
              parameters: dict[str, Any] | None, started_by: str) -> tuple[str, int]:
    """Start a run of the version ``env`` of a job or pipeline points at; (its id, version)."""
    with ctx.store.session() as s:
        version = environment_version(s, target, name, env, list(ctx.settings.environments))
    if target == "pipeline":
        info = ctx.run_pipeline(name, version, parameters, started_by=started_by)
        return info.id, info.version
    run = ctx.run(name, version, parameters, started_by=started_by)
    return run.id, run.version


def _fires(s: Session, target: str, name: str, kind: str) -> Any:
    return select(TriggerFire).where(TriggerFire.target == target, TriggerFire.name == name,
                                     TriggerFire.kind == kind)


def record(ctx: ShipContext, target: str, name: str, kind: str, key: str,
           run_id: str | None) -> bool:
    """Record a fire; False when that key already fired (someone else started it)."""
    try:
        with ctx.store.session() as s:
            found = s.scalars(_fires(s, target, name, kind).where(TriggerFire.key == key)).first()
            if found is not None:
                if found.run_id is None and run_id is not None:
                    found.run_id = run_id
                    return True
                return False
            s.add(TriggerFire(target=target, name=name, kind=kind, key=key, run_id=run_id,
                              fired_at=now()))
            row = s.scalars(select(Trigger).where(Trigger.target == target, Trigger.name == name,
                                                  Trigger.kind == kind)).first()
            if row is not None:
                row.last_fired_at = now()
        return True
    except IntegrityError:
        return False


def _start(ctx: ShipContext, row: Trigger, key: str, parameters: dict[str, Any]) -> str | None:
    """Claim ``key`` for the trigger, then start its run; the run's id (None: already claimed)."""
    if not record(ctx, row.target, row.name, row.kind, key, None):
        return None
    try:
        run_id, _ = start_run(ctx, row.target, row.name, row.environment, parameters,
                              f"trigger:{row.kind}")
    except Exception:
        log.exception("ml-ship: trigger %s of %s %s (%s) could not start a run", row.kind,
                      row.target, row.name, key)
        return None
    with ctx.store.session() as s:
        fire = s.scalars(_fires(s, row.target, row.name, row.kind)
                         .where(TriggerFire.key == key)).first()
        if fire is not None:
            fire.run_id = run_id
    return run_id


def _rows(ctx: ShipContext, kind: str) -> list[Trigger]:
    with ctx.store.session() as s:
        rows = list(s.scalars(select(Trigger).where(Trigger.kind == kind)))
        s.expunge_all()
    return rows


def fire_files(ctx: ShipContext) -> list[str]:
    """Start one run per new file of every files trigger; the runs' ids."""
    started = []
    for row in _rows(ctx, "files"):
        d = row.detail or {}
        if not d.get("root") or not os.path.isdir(d["root"]):
            continue
        files = matching_files(d["root"], d["glob"])
        if not files:
            continue
        with ctx.store.session() as s:
            known = set(s.scalars(select(TriggerFire.key).where(
                TriggerFire.target == row.target, TriggerFire.name == row.name,
                TriggerFire.kind == "files", TriggerFire.key.in_(files))))
        for path in files:
            if path not in known:
                run_id = _start(ctx, row, path, {d.get("parameter") or DEFAULT_PARAMETER: path})
                if run_id:
                    started.append(run_id)
    return started


def _own_step(s: Session, row: Trigger, pipeline_run_id: str | None) -> bool:
    """Is this upstream run a step of a run of the pipeline the trigger starts? (It would start
    that pipeline again and again.)"""
    if row.target != "pipeline" or not pipeline_run_id:
        return False
    return s.scalar(select(Pipeline.name).join(PipelineRun, PipelineRun.pipeline_id
                                               == Pipeline.id)
                    .where(PipelineRun.id == pipeline_run_id)) == row.name


def fire_after(ctx: ShipContext, at: datetime | None = None) -> list[str]:
    """Start the after-triggers whose upstream job or pipeline succeeded since (once per
    upstream success); the runs' ids."""
    started = []
    since = (at or now()) - LOOK_BACK
    for row in _rows(ctx, "after"):
        upstream = list((row.detail or {}).get("upstream") or [])
        after = max(row.created_at, since)
        with ctx.store.session() as s:
            done = [f"run:{i}" for i, in_pipeline in s.execute(
                select(Run.id, Run.pipeline_run_id).join(Job, Run.job_id == Job.id).where(
                    Job.name.in_(upstream), Run.status == "succeeded", Run.ended_at >= after))
                if not _own_step(s, row, in_pipeline)]
            done += [f"pipeline:{i}" for i in s.scalars(
                select(PipelineRun.id).join(Pipeline, PipelineRun.pipeline_id == Pipeline.id)
                .where(Pipeline.name.in_(upstream), PipelineRun.status == "succeeded",
                       PipelineRun.ended_at >= after))]
            known = set(s.scalars(select(TriggerFire.key).where(
                TriggerFire.target == row.target, TriggerFire.name == row.name,
                TriggerFire.kind == "after")))
        for key in done:
            if key not in known:
                run_id = _start(ctx, row, key, {})
                if run_id:
                    started.append(run_id)
    return started


def fire_triggers(ctx: ShipContext) -> None:
    """The tick's part (``ShipService.tick_hooks``): new files, upstream successes."""
    fire_files(ctx)
    fire_after(ctx)


def on_run_ended(ctx: ShipContext, info: RunInfo) -> None:
    """A run that succeeded starts its job's downstream after-triggers at once (the tick
    catches up on what this misses: a pipeline's success, another process's run)."""
    if info.status != "succeeded":
        return
    rows = [r for r in _rows(ctx, "after") if info.job in ((r.detail or {}).get("upstream") or [])]
    for row in rows:
        with ctx.store.session() as s:
            if _own_step(s, row, info.pipeline_run_id):
                continue
        _start(ctx, row, f"run:{info.id}", {})
