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

A schedule is edited in place, without a new version (``edit_schedule``: ``ml-ship schedule``,
``PATCH /schedules/{kind}/{name}``, the lab's Schedules view): another cron, a time zone (IANA,
default UTC; croniter reads the cron in it, daylight saving included), paused or resumed. The
edit is a row of ``schedules`` (migration 0011) and an audit event (``schedule``); every tick
reads it, so the Jupyter server or the agent honour it on their next tick. An edited cron holds
until a version is shipped with another schedule than the one it was edited over. A paused
schedule fires nothing; resumed, it counts from its latest tick (the ticks missed while paused
start nothing, like a schedule first seen).
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import func, select

from ..cron import check_schedule, check_timezone, describe, fire_times, last_fire, next_fire
from ..errors import BadInput, Conflict, NotFound, ShipError
from ..models import ScheduleInfo
from ..store.files import atomic_write_json, create_new, read_json
from ..store.schema import (
    Job,
    Pipeline,
    PipelineRun,
    PipelineVersion,
    Run,
    Schedule,
    Version,
    utcnow,
)
from .access import Ownership, check, whoami
from .environments import scheduled_version

if TYPE_CHECKING:
    from .context import ShipContext

FOLDER = "schedules"
#: seconds a fired tick's claim is kept
KEEP_CLAIMS = 2 * 24 * 3600


def next_tick(schedule: str, now: datetime | None = None,
              tz: str | None = None) -> tuple[datetime | None, str | None]:
    """(the schedule's next tick after ``now``, None) — no tick for ``@once`` and
    ``@continuous`` — or (None, why it has none) for a schedule that never fires."""
    try:
        return next_fire(schedule, now, tz), None
    except BadInput as exc:
        return None, exc.message


def _state_path(svc: ShipContext, kind: str, name: str) -> Path:
    return svc.home / FOLDER / f"{kind}.{name}.json"


def effective(shipped: str | None, row: Any,
              shipped_tz: str | None = None) -> tuple[str | None, str, bool]:
    """(the cron that runs, its time zone, paused) of a shipped schedule (and its zone,
    ``metadata.ml_ship.timezone``) and its edit row; a row's empty zone: the shipped one."""
    if row is None:
        return shipped, shipped_tz or "UTC", False
    cron = row.cron if row.cron is not None and row.base == shipped else shipped
    return cron, row.timezone or shipped_tz or "UTC", bool(row.paused)


def edit_rows(s: Any, kind: str, names: list[str] | None = None) -> dict[str, Any]:
    """The ``schedules`` rows of one kind (of ``names`` only, when given), by name."""
    q = select(Schedule).where(Schedule.kind == kind)
    if names is not None:
        q = q.where(Schedule.name.in_(names))
    return {r.name: r for r in s.scalars(q)}


def schedules(svc: ShipContext, now: datetime | None = None) -> list[ScheduleInfo]:
    """Every current version that has a schedule (shipped or edited), jobs then pipelines."""
    now = now or datetime.now(timezone.utc)
    found: list[tuple[Literal["job", "pipeline"], str, int, str | None, str, Any]] = []
    lasts: dict[tuple[str, str], tuple[str, str, datetime | None]] = {}
    zones: dict[str, str | None] = {}  # a job's shipped time zone (metadata.ml_ship.timezone)
    #: a job schedule's environment (core.environments), and why it has no version to run
    envs: dict[tuple[str, str], str] = {}
    no_env: dict[tuple[str, str], str | None] = {}
    with svc.store.session() as s:
        rows = {"job": edit_rows(s, "job"), "pipeline": edit_rows(s, "pipeline")}
        for name, number, config in s.execute(
                select(Job.name, Version.number, Version.config)
                .join(Version, (Version.job_id == Job.id)
                      & (Version.number == Job.current_version)).order_by(Job.name)):
            config = config or {}
            if config.get("schedule") or name in rows["job"]:
                backend = config.get("backend") or svc.settings.default_backend
                key = ("job", name)
                number, envs[key], no_env[key] = scheduled_version(s, name, config, number)
                found.append(("job", name, number, config.get("schedule"), backend,
                              rows["job"].get(name)))
                zones[name] = config.get("timezone")
        for name, number, spec in s.execute(
                select(Pipeline.name, PipelineVersion.number, PipelineVersion.spec)
                .join(PipelineVersion, (PipelineVersion.pipeline_id == Pipeline.id)
                      & (PipelineVersion.number == Pipeline.current_version))
                .order_by(Pipeline.name)):
            if (spec or {}).get("schedule") or name in rows["pipeline"]:
                key = ("pipeline", name)  # its file's schedule_environment, like a job's
                number, envs[key], no_env[key] = scheduled_version(s, name, spec, number,
                                                                   "pipeline")
                found.append(("pipeline", name, number, (spec or {}).get("schedule"),
                              svc.settings.default_backend, rows["pipeline"].get(name)))
        for model, owner, kind in ((Run, Job, "job"), (PipelineRun, Pipeline, "pipeline")):
            last = select(func.max(model.id)).join(owner).where(
                model.started_by == "schedule").group_by(owner.name)  # type: ignore[attr-defined]
            for name, run_id, status, started in s.execute(
                    select(owner.name, model.id, model.status, model.created_at)  # type: ignore[attr-defined]
                    .join(owner).where(model.id.in_(last))):  # type: ignore[attr-defined]
                lasts[(kind, name)] = (str(run_id), status, started)
    result = []
    for kind, name, number, shipped, backend, row in found:
        cron, tz, paused = effective(shipped, row, zones.get(name) if kind == "job" else None)
        if cron is None:
            continue  # an edit row left over after the schedule was shipped away
        state = read_json(_state_path(svc, kind, name)) or {}
        fired = state.get("fired")
        next_run, error = next_tick(cron, now, tz)
        if no_env.get((kind, name)):
            next_run, error = None, error or no_env[(kind, name)]
        last_id, last_status, last_at = lasts.get((kind, name), (None, None, None))
        result.append(ScheduleInfo(
            kind=kind, name=name, version=number, schedule=cron, backend=backend,
            environment=envs.get((kind, name), "production"),
            runner=_runner_of(svc, backend), next_run=None if paused else next_run,
            schedule_error=error, last_fired=datetime.fromisoformat(fired) if fired else None,
            timezone=tz, paused=paused, description=describe(cron), shipped_schedule=shipped,
            edited=row is not None and cron != shipped,
            edited_by=row.updated_by if row is not None else None,
            edited_at=row.updated_at if row is not None else None,
            last_run_id=last_id, last_run_status=last_status, last_run_at=last_at))
    return result


def edit_schedule(svc: ShipContext, kind: str | None, name: str, *, cron: str | None = None,
                  tz: str | None = None, paused: bool | None = None,
                  actor: Any = None) -> ScheduleInfo:
    """Change a schedule without a new version: its cron, its time zone, paused or not
    (``None``: unchanged). Checked as at ship (it must fire, in its zone), allowed to whom may
    ship it, audited (``schedule``, from and to). ``kind`` None: the job, else the pipeline."""
    if kind not in (None, "job", "pipeline"):
        raise BadInput(f"kind: {kind!r} is not 'job' or 'pipeline'")
    if cron is not None and not cron.strip():
        cron = None  # an empty cron changes nothing (as absent)
    if cron is None and tz is None and paused is None:  # nothing to change: the schedule
        found = [x for x in schedules(svc) if x.name == name and kind in (None, x.kind)]
        if not found:
            raise NotFound(f"no {kind or 'job or pipeline'} named {name!r} has a schedule")
        return found[0]
    where = f"schedule of {name}"
    if tz is not None:
        tz = check_timezone(tz, f"{where}: timezone")
    if cron is not None:
        cron = check_schedule(cron, f"{where}: cron")
    with svc.store.session() as s:
        job = s.scalars(select(Job).where(Job.name == name)).first() \
            if kind in (None, "job") else None
        pipe = s.scalars(select(Pipeline).where(Pipeline.name == name)).first() \
            if job is None and kind in (None, "pipeline") else None
        if job is not None:
            kind = "job"
            config = s.scalar(select(Version.config).where(
                Version.job_id == job.id, Version.number == job.current_version)) or {}
            shipped, shipped_tz = config.get("schedule"), config.get("timezone")
            backend = config.get("backend") or svc.settings.default_backend
            own = Ownership.of("job", name, job.owner, config)
        elif pipe is not None:
            kind = "pipeline"
            spec = s.scalar(select(PipelineVersion.spec).where(
                PipelineVersion.pipeline_id == pipe.id,
                PipelineVersion.number == pipe.current_version)) or {}
            shipped, backend = spec.get("schedule"), svc.settings.default_backend
            shipped_tz = None
            own = svc.pipeline_ownership(s, pipe)
        else:
            raise NotFound(f"no {kind or 'job or pipeline'} named {name!r}")
        who = svc.acting(None if isinstance(actor, str) else actor)
        check(who, "ship", own)
        if _runner_of(svc, backend) != "ml-ship":  # a backend that schedules itself
            where_it_runs = svc.backend(backend).label or backend
            raise Conflict(f"{kind} {name} runs on {where_it_runs}, whose DAG holds the schedule: "
                           "ship a new version to change it")
        row = s.get(Schedule, (kind, name))
        before_cron, before_tz, before_paused = effective(shipped, row, shipped_tz)
        new_cron = cron if cron is not None else before_cron
        if new_cron is None:
            raise BadInput(f"{where}: {kind} {name} has no schedule: give a cron, e.g. "
                           "'0 6 * * *'")
        new_tz = tz if tz is not None else before_tz
        try:
            fire_times(new_cron, tz=new_tz)  # fires in its zone too
        except BadInput as exc:
            raise BadInput(f"{where}: {exc.message}") from None
        if row is None:
            row = Schedule(kind=kind, name=name)
            s.add(row)
        row.cron, row.base = (None, None) if new_cron == shipped else (new_cron, shipped)
        row.timezone = "" if new_tz == (shipped_tz or "UTC") else new_tz  # "": as shipped
        row.paused = before_paused if paused is None else paused
        row.updated_at = utcnow()
        row.updated_by = (who.name if who is not None else "") or \
            (actor if isinstance(actor, str) else "") or whoami()
        before = {"cron": before_cron, "timezone": before_tz, "paused": before_paused}
        after = {"cron": new_cron, "timezone": new_tz, "paused": row.paused}
        action = "pause" if paused and not before_paused else \
            "resume" if paused is False and before_paused else "edit"
        svc.audit(name, "schedule", row.updated_by,
                  {"kind": kind, "action": action, "from": before, "to": after})
    return next(x for x in schedules(svc) if x.kind == kind and x.name == name)


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
        key = f"{sched.schedule} {sched.timezone}"
        try:
            tick = last_fire(sched.schedule, now, sched.timezone) \
                if sched.schedule_error is None else None
        except BadInput as exc:
            sched.schedule_error, tick = exc.message, None
        if sched.schedule_error is not None:
            if state.get("error") != sched.schedule_error or state.get("version") != sched.version:
                atomic_write_json(path, {"version": sched.version, "error": sched.schedule_error})
                started.append((sched, f"error: not run: {sched.schedule_error}"))
            continue
        if tick is None:  # @once, @continuous: only Airflow runs them
            continue
        if sched.paused or state.get("version") != sched.version or not state.get("tick") \
                or state.get("schedule", key) != key:
            # first seen (another version, another cron or zone), or paused: count from the
            # latest tick, fire none
            if state.get("tick") != tick.isoformat() or state.get("schedule") != key \
                    or state.get("version") != sched.version:
                atomic_write_json(path, {**state, "version": sched.version,
                                         "tick": tick.isoformat(), "schedule": key})
            continue
        if tick <= datetime.fromisoformat(state["tick"]):
            continue
        if not _claim_tick(svc, sched.kind, sched.name, tick):
            continue  # another process fired this tick
        atomic_write_json(path, {"version": sched.version, "tick": tick.isoformat(),
                                 "fired": now.isoformat(), "schedule": key})
        try:
            if sched.kind == "job":
                outcome = svc.run(sched.name, sched.version, started_by="schedule").id
            else:
                outcome = svc.run_pipeline(sched.name, sched.version, started_by="schedule").id
        except Exception as exc:  # a backend down, a secret missing: said, the next tick tries
            outcome = f"error: {getattr(exc, 'message', None) or exc}"
        started.append((sched, outcome))
    return started
