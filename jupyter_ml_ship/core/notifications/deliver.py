"""Sending what ``plan`` planned: claim due deliveries, send each through its channel
(``registry``), retry with backoff, record how it went.

``deliver_pending(ctx)`` is the one entry point, called by whatever loop does the periodic work
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
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ...models import DeliveryInfo
from ...notify_spec import notify_rules
from ...store import Run
from ...store.schema import Delivery
from ..context import ShipContext
from ..rows import version_event_reason
from .message import Message, describe
from .pipeline import exists_run
from .pipeline import message as pipeline_message
from .plan import plan
from .registry import DeliveryError, Notice, channels

log = logging.getLogger("jupyter_ml_ship.notify")

#: how long a claimed delivery is ours; past it another process may take it over
LEASE = timedelta(seconds=120)
MAX_BACKOFF = 3600.0
#: the channels ``DeliveryInfo.channel`` names (the REST contract); others are shown as they are
_KNOWN = ("email", "webhook", "mlflow")

_pools: weakref.WeakKeyDictionary[Any, _Pool] = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


class _Pool:
    """The threads that send one service's deliveries, and the ids in flight."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(4, thread_name_prefix="ml-ship-deliver")
        self.in_flight: set[int] = set()
        self.lock = threading.Lock()


def _pool(ctx: Any) -> _Pool:
    with _pools_lock:
        pool = _pools.get(ctx)
        if pool is None:
            pool = _pools[ctx] = _Pool()
        return pool


def deliver_pending(ctx: ShipContext, background: bool = True,
                    now: datetime | None = None) -> int:
    """Plan and send what is due; the number of deliveries claimed (sent, or being sent in the
    background). Idempotent and safe to call from several processes at once."""
    now = now or datetime.now(timezone.utc)
    try:
        plan(ctx, now)
    except Exception:  # the store is busy or down: next call
        log.exception("ml-ship: planning notifications failed")
        return 0
    pool = _pool(ctx)
    claimed = _claim_due(ctx, now, pool)
    futures = [pool.executor.submit(_send_one, ctx, d, pool) for d in claimed]
    if not background:
        for fut in futures:
            fut.result()
    return len(claimed)


def wait_idle(ctx: ShipContext, timeout: float = 30.0) -> None:
    """Wait for the background sends of this service to finish (tests, shutdown)."""
    pool = _pool(ctx)
    deadline = time.monotonic() + timeout
    while pool.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)


# ---- claiming and sending ---------------------------------------------------------------------


def _claim_due(ctx: ShipContext, now: datetime, pool: _Pool) -> list[int]:
    with ctx.store.session() as s:
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
        with ctx.store.session() as s:
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


def _send_one(ctx: ShipContext, delivery_id: int, pool: _Pool) -> None:
    try:
        _send_claimed(ctx, delivery_id)
    except Exception:  # never kill the pool thread
        log.exception("ml-ship: delivery %s crashed", delivery_id)
    finally:
        with pool.lock:
            pool.in_flight.discard(delivery_id)


def _send_claimed(ctx: ShipContext, delivery_id: int) -> None:
    with ctx.store.session() as s:
        d = s.get(Delivery, delivery_id)
        if d is None:
            return
        channel, target, event, attempts = d.channel, d.target, d.event, d.attempts
        notice = Notice(subject=d.subject, kind=d.subject_kind, event=event)
        if d.subject_kind == "pipeline_run":
            if not exists_run(s, d.subject):
                d.status, d.error, d.lease_until = "failed", "the pipeline run was deleted", None
                return
            config: dict[str, Any] = {}
        else:
            run = s.get(Run, d.subject)
            if run is None:  # deleted with its job: nothing to tell
                d.status, d.error, d.lease_until = "failed", "the run was deleted", None
                return
            config = dict(run.version.config or {}) if run.version else {}
            notice.digest = run.version.digest if run.version else ""
            notice.run_dir = Path(run.run_dir)
    detail: dict[str, Any] = {}
    error: str | None = None
    try:
        sender = channels.get(channel)
        if sender.needs_message:
            notice.message = (pipeline_message(ctx, d.subject, event) if notice.run_dir is None
                              else _message(ctx, d.subject, event, config, notice.run_dir))
        detail = sender.send(ctx, target, notice)
    except DeliveryError as exc:
        error = str(exc)
    except Exception as exc:  # a bug or a library error: shown on the run, retried
        error = f"{type(exc).__name__}: {_safe(str(exc), ctx)}"
    now = datetime.now(timezone.utc)
    with ctx.store.session() as s:
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
            if attempts >= max(1, ctx.settings.notify_attempts):
                d.status = "failed"
            else:
                d.status = "pending"
                d.next_attempt_at = now + timedelta(seconds=backoff(ctx, attempts))
            log.warning("ml-ship: %s %s of run %s, attempt %d: %s", channel, event, d.subject,
                        attempts, d.error)


def backoff(ctx: Any, attempts: int) -> float:
    base = float(getattr(ctx.settings, "notify_backoff", 5.0))
    return min(MAX_BACKOFF, base * (2 ** max(0, attempts - 1)))


def _message(ctx: ShipContext, run_id: str, event: str, config: dict[str, Any],
             run_dir: Path) -> Message:
    info = ctx.get_run(run_id, reconcile=False)
    longer = next((r.longer_than for r in notify_rules(config) if r.longer_than), None)
    tail = _log_tail(run_dir / "log.txt")
    reason = ""
    if event in ("promoted", "rejected", "rolled_back"):  # a version's events (core.promotion)
        with ctx.store.session() as s:
            reason = version_event_reason(s, info.id, event)
    msg = describe(info, event, longer, ctx.settings.lab_url, tail, reason)
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


def _safe(text: str, ctx: Any) -> str:
    secrets = [os.environ.get(ctx.settings.smtp_password_env or "", "")]
    return _scrub_all(text, secrets)


def _scrub_all(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _shown_target(channel: str, target: str) -> str:
    try:
        return channels.get(channel).shown(target)
    except DeliveryError:  # a channel no package registers any more: its name only
        return channel


# ---- reading ----------------------------------------------------------------------------------


def deliveries_of(s: Session, run_id: str) -> list[DeliveryInfo]:
    rows = s.scalars(select(Delivery).where(Delivery.subject == run_id)
                     .order_by(Delivery.id)).all()
    out = []
    for d in rows:
        fields: dict[str, Any] = dict(
            channel=d.channel, target=_shown_target(d.channel, d.target), event=d.event,
            status=cast(Any, d.status), attempts=d.attempts, error=d.error, sent_at=d.sent_at,
            next_attempt_at=d.next_attempt_at if d.status == "pending" and d.attempts else None,
            url=(d.detail or {}).get("url"))
        # a registered channel beyond the built-in ones is listed under its own name
        out.append(DeliveryInfo(**fields) if d.channel in _KNOWN
                   else DeliveryInfo.model_construct(**fields))
    return out


