"""Planning: which deliveries are due, one ``Delivery`` row per (channel, target, event) of a
run; unique keys make planning idempotent across processes (``deliver`` sends them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import TERMINAL_STATUSES
from ...notify_spec import STATUS_EVENTS, notify_rules
from ...store import Run, Version
from ...store.schema import Delivery, DeliveryMark
from ..checks.alerts import health_events
from .pipeline import plan_pipeline_runs

if TYPE_CHECKING:
    from ..context import ShipContext

#: runs planned per call (a backlog drains over a few calls)
PLAN_BATCH = 200
#: statuses MLflow logs (a cancelled or skipped run has nothing to compare)
MLFLOW_STATUSES = ("succeeded", "failed", "timed_out")



def plan(ctx: ShipContext, now: datetime) -> int:
    """Record the deliveries due for runs that ended or are running; how many were added."""
    settings = ctx.settings
    mlflow = bool(settings.mlflow_tracking_uri)
    cutoff = now - timedelta(seconds=settings.notify_max_age)
    added = 0
    with ctx.store.session() as s:
        ended = s.execute(
            select(Run.id, Run.status, Run.started_at, Run.ended_at, Version.config, Run.health,
                   Run.checks)
            .join(Version, Run.version_id == Version.id)
            .where(Run.status.in_(TERMINAL_STATUSES),
                   ~exists().where(DeliveryMark.subject == Run.id),
                   or_(Run.ended_at.is_(None), Run.ended_at > cutoff))
            .limit(PLAN_BATCH)
        ).all()
        for run_id, status, started, ended_at, config, health, checks in ended:
            wanted = _events_for(config, status, started, ended_at or now, terminal=True)
            wanted += health_events(config, status, health, checks)
            if mlflow and status in MLFLOW_STATUSES:
                wanted.append(("mlflow", "tracking", "finished"))
            try:
                with s.begin_nested():
                    s.add(DeliveryMark(subject=run_id, subject_kind="run", created_at=now))
                    s.flush()
            except IntegrityError:  # another process planned it
                continue
            added += add_deliveries(s, run_id, wanted, now)
        active = s.execute(
            select(Run.id, Run.status, Run.started_at, Version.config)
            .join(Version, Run.version_id == Version.id)
            .where(Run.status.in_(("building", "running")))
        ).all()
        for run_id, status, started, config in active:
            if not (config or {}).get("notify"):
                continue
            wanted = _events_for(config, status, started, now, terminal=False)
            added += add_deliveries(s, run_id, wanted, now)
        added += plan_pipeline_runs(s, now, cutoff, add_deliveries)
    return added


def _events_for(config: dict[str, Any] | None, status: str, started: datetime | None,
                until: datetime, terminal: bool) -> list[tuple[str, str, str]]:
    """(channel, target, event) the job's rules ask for, for a run in this state."""
    out: list[tuple[str, str, str]] = []
    running_for = (until - started).total_seconds() if started else 0.0
    for rule in notify_rules(config):
        events = []
        if terminal and status in rule.on and status in STATUS_EVENTS:
            events.append(status)
        if "started" in rule.on and started is not None and (terminal or status == "running"):
            events.append("started")
        if ("longer_than" in rule.on and rule.longer_than and started is not None
                and running_for > rule.longer_than):
            events.append("longer_than")
        out += rule.deliveries(events)
    return out


def add_deliveries(s: Session, run_id: str, wanted: list[tuple[str, str, str]], now: datetime,
         kind: str = "run") -> int:
    """Add the ``wanted`` (channel, target, event) of ``subject`` not planned yet; how many."""
    if not wanted:
        return 0
    have = {tuple(r) for r in s.execute(select(Delivery.channel, Delivery.target, Delivery.event)
                                        .where(Delivery.subject == run_id)).all()}
    added = 0
    for channel, target, event in dict.fromkeys(wanted):
        if (channel, target, event) in have:
            continue
        try:
            with s.begin_nested():
                s.add(Delivery(subject=run_id, subject_kind=kind, channel=channel, target=target,
                               event=event, status="pending", attempts=0, next_attempt_at=now,
                               detail={}, created_at=now))
                s.flush()
            added += 1
        except IntegrityError:  # planned by another process meanwhile
            pass
    return added
