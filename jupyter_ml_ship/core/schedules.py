"""Schedules: a job's ``metadata.ml_ship.schedule`` or a pipeline's ``schedule:``, run by us.

On Airflow, a schedule is the DAG's own (Airflow starts the DAG runs, ``discover`` records
them). On the other backends the Jupyter server runs what is due: ``fire_due`` starts a run of
the current version for each schedule whose latest tick (cron, in UTC) came after the last one
it fired. Like Airflow without catch-up, ticks missed while no server ran give one run, not one
per tick; a schedule first seen (a new version shipped, a rollback) starts counting from now.
Each tick is fired once across processes (a file created with ``O_EXCL`` in ``HOME/schedules``).

A schedule stored before ship checked that it fires (``0 0 31 2 *``), or written into the store
by hand, is listed with its ``schedule_error`` and never fired; the tick reports it once per
version and goes on with the others.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from sqlalchemy import select

from ..cron import last_fire, next_fire
from ..errors import BadInput, ShipError
from ..models import ScheduleInfo
from ..store.files import atomic_write_json, create_new, read_json

if TYPE_CHECKING:
    from .context import ShipContext

FOLDER = "schedules"
#: seconds a fired tick's claim is kept
KEEP_CLAIMS = 2 * 24 * 3600


def next_tick(schedule: str, now: datetime | None = None) -> tuple[datetime | None, str | None]:
    """(the schedule's next tick after ``now``, None) — no tick for ``@once`` and
    ``@continuous`` — or (None, why it has none) for a schedule that never fires."""
    try:
        return next_fire(schedule, now), None
    except BadInput as exc:
        return None, exc.message


def _state_path(svc: ShipContext, kind: str, name: str) -> Path:
    return svc.home / FOLDER / f"{kind}.{name}.json"


def schedules(svc: ShipContext, now: datetime | None = None) -> list[ScheduleInfo]:
    """Every current version that has a schedule, jobs then pipelines, by name."""
    from ..store.schema import Job, Pipeline, PipelineVersion, Version

    now = now or datetime.now(timezone.utc)
    found: list[tuple[Literal["job", "pipeline"], str, int, str, str]] = []
    with svc.store.session() as s:
        for name, number, config in s.execute(
                select(Job.name, Version.number, Version.config)
                .join(Version, (Version.job_id == Job.id)
                      & (Version.number == Job.current_version)).order_by(Job.name)):
            if (config or {}).get("schedule"):
                backend = config.get("backend") or svc.settings.default_backend
                found.append(("job", name, number, str(config["schedule"]), backend))
        for name, number, spec in s.execute(
                select(Pipeline.name, PipelineVersion.number, PipelineVersion.spec)
                .join(PipelineVersion, (PipelineVersion.pipeline_id == Pipeline.id)
                      & (PipelineVersion.number == Pipeline.current_version))
                .order_by(Pipeline.name)):
            if (spec or {}).get("schedule"):
                found.append(("pipeline", name, number, str(spec["schedule"]),
                              svc.settings.default_backend))
    result = []
    for kind, name, number, schedule, backend in found:
        state = read_json(_state_path(svc, kind, name)) or {}
        fired = state.get("fired")
        next_run, error = next_tick(schedule, now)
        result.append(ScheduleInfo(
            kind=kind, name=name, version=number, schedule=schedule, backend=backend,
            runner=_runner_of(svc, backend), next_run=next_run, schedule_error=error,
            last_fired=datetime.fromisoformat(fired) if fired else None))
    return result


def _runner_of(svc: ShipContext, backend: str) -> Literal["ml-ship", "airflow"]:
    """Who starts a schedule's runs: a backend that schedules itself (Airflow), or us."""
    try:
        impl = svc.backend(backend)
    except ShipError:  # not enabled: we would start it (and say why it cannot run)
        return "ml-ship"
    return cast(Literal["ml-ship", "airflow"], impl.name) if impl.schedules_itself \
        else "ml-ship"


def _claim_tick(svc: ShipContext, kind: str, name: str, tick: datetime) -> bool:
    """Whether this process fires the tick (its claim file is new). Claims older than
    ``KEEP_CLAIMS`` go: by then every process has moved past their ticks."""
    key = hashlib.sha256(f"{kind}\0{name}\0{tick.isoformat()}".encode()).hexdigest()[:32]
    path = svc.home / FOLDER / "fired" / key
    if not create_new(path):
        return False
    old = time.time() - KEEP_CLAIMS
    for claim in path.parent.iterdir():
        try:
            if claim.stat().st_mtime < old:
                claim.unlink()
        except FileNotFoundError:
            pass  # another process removed it
    return True


def fire_due(svc: ShipContext, now: datetime | None = None) -> list[tuple[ScheduleInfo, str]]:
    """Start a run of each schedule that is due (not those Airflow runs): (schedule, the id of
    the run or pipeline run started, or the error that kept it from starting). A schedule that
    cannot fire is reported once per version (as an error), then skipped."""
    now = now or datetime.now(timezone.utc)
    started: list[tuple[ScheduleInfo, str]] = []
    for sched in schedules(svc, now):
        if sched.runner != "ml-ship":
            continue
        path = _state_path(svc, sched.kind, sched.name)
        state = read_json(path) or {}
        try:
            tick = last_fire(sched.schedule, now) if sched.schedule_error is None else None
        except BadInput as exc:
            sched.schedule_error, tick = exc.message, None
        if sched.schedule_error is not None:
            if state.get("error") != sched.schedule_error or state.get("version") != sched.version:
                atomic_write_json(path, {"version": sched.version, "error": sched.schedule_error})
                started.append((sched, f"error: not run: {sched.schedule_error}"))
            continue
        if tick is None:  # @once, @continuous: only Airflow runs them
            continue
        if state.get("version") != sched.version or not state.get("tick"):
            # first seen (or another version now): count from the latest tick, fire none
            atomic_write_json(path, {**state, "version": sched.version, "tick": tick.isoformat()})
            continue
        if tick <= datetime.fromisoformat(state["tick"]):
            continue
        if not _claim_tick(svc, sched.kind, sched.name, tick):
            continue  # another process fired this tick
        atomic_write_json(path, {"version": sched.version, "tick": tick.isoformat(),
                                 "fired": now.isoformat()})
        try:
            if sched.kind == "job":
                outcome = svc.run(sched.name, sched.version, started_by="schedule").id
            else:
                outcome = svc.run_pipeline(sched.name, sched.version, started_by="schedule").id
        except Exception as exc:  # a backend down, a secret missing: said, the next tick tries
            outcome = f"error: {getattr(exc, 'message', None) or exc}"
        started.append((sched, outcome))
    return started
