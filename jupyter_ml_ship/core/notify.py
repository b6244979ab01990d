"""Telling the outside world about runs: notifications (mail, webhook) and MLflow logs.

``deliver_pending(svc)`` is the one entry point, called by whatever loop does the periodic work
(the Jupyter server's reconciler, ``ml-ship run --wait``, the agent). Each call:

1. plans: for every run that ended and was not looked at yet (no ``DeliveryMark``), and every
   active run of a job with ``started`` / ``longer_than`` rules, one ``Delivery`` row per
   (channel, target, event); unique keys make planning idempotent across processes;
2. claims due deliveries with a conditional UPDATE and a lease (so two processes never send
   the same one; a process that died mid-send leaves a lease that expires and is retried);
3. sends them off the caller's thread (``background=True``) or before returning.

A failed send is retried with exponential backoff up to ``MlShip.notify_attempts`` times, then
stays ``failed`` on the run (``RunInfo.notifications``): never a silent drop. Nothing here logs,
stores or returns a secret (webhook URLs, the SMTP password).
"""

from __future__ import annotations

import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import TERMINAL_STATUSES, DeliveryInfo
from ..notify_spec import STATUS_EVENTS, notify_rules
from ..store import Run, Version
from ..store.schema import Delivery, DeliveryMark
from .checks.alerts import health_events

if TYPE_CHECKING:
    from .service import ShipService

log = logging.getLogger("jupyter_ml_ship.notify")

#: how long a claimed delivery is ours; past it another process may take it over
LEASE = timedelta(seconds=120)
MAX_BACKOFF = 3600.0
#: runs planned per call (a backlog drains over a few calls)
PLAN_BATCH = 200
#: statuses MLflow logs (a cancelled or skipped run has nothing to compare)
MLFLOW_STATUSES = ("succeeded", "failed", "timed_out")

_pools: weakref.WeakKeyDictionary[Any, _Pool] = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


class _Pool:
    """The threads that send one service's deliveries, and the ids in flight."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(4, thread_name_prefix="ml-ship-deliver")
        self.in_flight: set[int] = set()
        self.lock = threading.Lock()


def _pool(svc: Any) -> _Pool:
    with _pools_lock:
        pool = _pools.get(svc)
        if pool is None:
            pool = _pools[svc] = _Pool()
        return pool


def deliver_pending(svc: ShipService, background: bool = True,
                    now: datetime | None = None) -> int:
    """Plan and send what is due; the number of deliveries claimed (sent, or being sent in the
    background). Idempotent and safe to call from several processes at once."""
    now = now or datetime.now(timezone.utc)
    try:
        plan(svc, now)
    except Exception:  # the store is busy or down: next call
        log.exception("ml-ship: planning notifications failed")
        return 0
    pool = _pool(svc)
    claimed = _claim_due(svc, now, pool)
    futures = [pool.executor.submit(_send_one, svc, d, pool) for d in claimed]
    if not background:
        for fut in futures:
            fut.result()
    return len(claimed)


def wait_idle(svc: ShipService, timeout: float = 30.0) -> None:
    """Wait for the background sends of this service to finish (tests, shutdown)."""
    import time

    pool = _pool(svc)
    deadline = time.monotonic() + timeout
    while pool.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)


# ---- planning --------------------------------------------------------------------------------


def plan(svc: ShipService, now: datetime) -> int:
    """Record the deliveries due for runs that ended or are running; how many were added."""
    settings = svc.settings
    mlflow = bool(settings.mlflow_tracking_uri)
    cutoff = now - timedelta(seconds=settings.notify_max_age)
    added = 0
    with svc.store.session() as s:
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
            added += _add(s, run_id, wanted, now)
        active = s.execute(
            select(Run.id, Run.status, Run.started_at, Version.config)
            .join(Version, Run.version_id == Version.id)
            .where(Run.status.in_(("building", "running")))
        ).all()
        for run_id, status, started, config in active:
            if not (config or {}).get("notify"):
                continue
            wanted = _events_for(config, status, started, now, terminal=False)
            added += _add(s, run_id, wanted, now)
        from ._notify_pipeline import plan_pipeline_runs

        added += plan_pipeline_runs(s, now, cutoff, _add)
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


def _add(s: Session, run_id: str, wanted: list[tuple[str, str, str]], now: datetime,
         kind: str = "run") -> int:
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


# ---- claiming and sending ---------------------------------------------------------------------


def _claim_due(svc: ShipService, now: datetime, pool: _Pool) -> list[int]:
    with svc.store.session() as s:
        due = list(s.scalars(
            select(Delivery.id)
            .where(Delivery.status.in_(("pending", "sending")), Delivery.next_attempt_at <= now,
                   or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
            .order_by(Delivery.id).limit(50)))
    claimed = []
    for delivery_id in due:
        with pool.lock:
            if delivery_id in pool.in_flight:
                continue
        with svc.store.session() as s:
            result = s.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.status.in_(("pending", "sending")),
                       or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
                .values(status="sending", lease_until=now + LEASE,
                        attempts=Delivery.attempts + 1))
            got = getattr(result, "rowcount", 0)
        if got == 1:
            with pool.lock:
                pool.in_flight.add(delivery_id)
            claimed.append(delivery_id)
    return claimed


def _send_one(svc: ShipService, delivery_id: int, pool: _Pool) -> None:
    try:
        _send_claimed(svc, delivery_id)
    except Exception:  # never kill the pool thread
        log.exception("ml-ship: delivery %s crashed", delivery_id)
    finally:
        with pool.lock:
            pool.in_flight.discard(delivery_id)


def _send_claimed(svc: ShipService, delivery_id: int) -> None:
    from ._notify_send import DeliveryError

    with svc.store.session() as s:
        d = s.get(Delivery, delivery_id)
        if d is None:
            return
        channel, target, event, attempts = d.channel, d.target, d.event, d.attempts
        if d.subject_kind == "pipeline_run":
            from ._notify_pipeline import exists_run

            if not exists_run(s, d.subject):
                d.status, d.error, d.lease_until = "failed", "the pipeline run was deleted", None
                return
        run = None if d.subject_kind == "pipeline_run" else s.get(Run, d.subject)
        if run is None and d.subject_kind != "pipeline_run":
            # deleted with its job: nothing to tell
            d.status, d.error, d.lease_until = "failed", "the run was deleted", None
            return
        config = dict(run.version.config or {}) if run and run.version else {}
        digest = run.version.digest if run and run.version else ""
        run_dir = Path(run.run_dir) if run else None
    detail: dict[str, Any] = {}
    error: str | None = None
    try:
        if run_dir is None:  # a pipeline run
            from ._notify_pipeline import message

            msg = message(svc, d.subject, event)
        elif channel == "mlflow":
            from .mlflow_sync import log_run

            detail = log_run(svc.settings, svc.get_run(d.subject, reconcile=False), run_dir,
                             digest)
        else:
            info = svc.get_run(d.subject, reconcile=False)
            msg = _message(svc, info, event, config, run_dir)
        if channel != "mlflow":
            if channel == "email":
                from ._notify_send import send_email

                detail = {"message_id": send_email(svc.settings, target.split(","), msg)}
            elif channel == "webhook":
                from ._notify_send import post_webhook

                detail = {"http_status": post_webhook(target, msg)}
            else:
                raise DeliveryError(f"unknown channel {channel!r}")
    except DeliveryError as exc:
        error = str(exc)
    except Exception as exc:  # a bug or a library error: shown on the run, retried
        error = f"{type(exc).__name__}: {_safe(str(exc), svc)}"
    now = datetime.now(timezone.utc)
    with svc.store.session() as s:
        d = s.get(Delivery, delivery_id)
        if d is None:
            return
        d.lease_until = None
        if error is None:
            d.status, d.error, d.sent_at, d.detail = "sent", None, now, detail
            log.info("ml-ship: %s %s of run %s sent to %s", channel, event, d.subject,
                     _shown_target(channel, target))
        else:
            d.error = error[:2000]
            if attempts >= max(1, svc.settings.notify_attempts):
                d.status = "failed"
            else:
                d.status = "pending"
                d.next_attempt_at = now + timedelta(seconds=backoff(svc, attempts))
            log.warning("ml-ship: %s %s of run %s, attempt %d: %s", channel, event, d.subject,
                        attempts, d.error)


def backoff(svc: Any, attempts: int) -> float:
    base = float(getattr(svc.settings, "notify_backoff", 5.0))
    return min(MAX_BACKOFF, base * (2 ** max(0, attempts - 1)))


def _message(svc: ShipService, info: Any, event: str, config: dict[str, Any],
             run_dir: Path) -> Any:
    from ._notify_message import describe

    longer = next((r.longer_than for r in notify_rules(config) if r.longer_than), None)
    tail = _log_tail(run_dir / "log.txt")
    reason = ""
    if event in ("promoted", "rejected", "rolled_back"):  # a version's events (core.promotion)
        from .promotion import version_event_reason

        with svc.store.session() as s:
            reason = version_event_reason(s, info.id, event)
    msg = describe(info, event, longer, svc.settings.lab_url, tail, reason)
    if event in ("failed", "timed_out", "succeeded", "degraded", "drift"):
        for name in ("output.ipynb", "output.partial.ipynb"):
            if (run_dir / name).exists():
                msg.report = run_dir / name
                break
    return msg


def _log_tail(path: Path, lines: int = 20, window: int = 16 * 1024) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - window))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def _safe(text: str, svc: Any) -> str:
    import os

    secrets = [os.environ.get(svc.settings.smtp_password_env or "", "")]
    return _scrub_all(text, secrets)


def _scrub_all(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _shown_target(channel: str, target: str) -> str:
    if channel == "webhook":
        return f"webhook {target}"  # the secret's name; the URL is never shown
    if channel == "mlflow":
        return "MLflow"
    return target.replace(",", ", ")


# ---- reading ----------------------------------------------------------------------------------


def deliveries_of(s: Session, run_id: str) -> list[DeliveryInfo]:
    rows = s.scalars(select(Delivery).where(Delivery.subject == run_id)
                     .order_by(Delivery.id)).all()
    return [DeliveryInfo(
        channel=cast(Any, d.channel), target=_shown_target(d.channel, d.target), event=d.event,
        status=cast(Any, d.status), attempts=d.attempts, error=d.error, sent_at=d.sent_at,
        next_attempt_at=d.next_attempt_at if d.status == "pending" and d.attempts else None,
        url=(d.detail or {}).get("url")) for d in rows]


