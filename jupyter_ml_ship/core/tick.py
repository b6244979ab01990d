"""One round of everything periodic (``ShipService.tick``), and who does it: the agent's lease.

A tick starts the runs users' servers recorded for the agent (team mode), reconciles active
runs, advances pipeline runs (resuming those whose scheduler died),
fires the schedules that are due and records the runs a backend started itself. The Jupyter
server, the CLI and ``ml-ship agent`` call it; nothing else schedules periodic work.

One agent per store holds the ``agent`` lease (a row of ``leases``, taken and renewed by a
conditional UPDATE, so two agents never both hold it); a second agent waits and takes over once
the first stops renewing. While an agent holds it, Jupyter servers on the same store only read
(to emit their events) and leave the periodic work to it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import NotFound, ShipError
from ..models import AgentInfo, RunInfo, ScheduleInfo
from ..pipelines.models import PipelineRunInfo
from ..store import Run
from ..store.files import read_json
from ..store.schema import Lease
from ._base import _ServiceBase

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

AGENT_LEASE = "agent"
#: an agent that has not renewed its lease for this long is taken over
LEASE_TTL = 10.0
#: in a team-mode run's folder: which process claimed it (``holder_id``) and when
CLAIM_FILE = "claim.json"
#: a run another process claimed this long ago and never handed to its backend was lost
#: with that process (killed between the claim and the start): it is taken back
CLAIM_GRACE = timedelta(seconds=30)


@dataclass
class TickReport:
    """What one tick did and saw."""

    #: the current state of every active (or asked-about) run and pipeline run
    states: list[RunInfo | PipelineRunInfo] = field(default_factory=list)
    #: keys ("run:ID", "pipeline:ID") of runs that no longer exist
    gone: list[str] = field(default_factory=list)
    discovered: list[str] = field(default_factory=list)
    #: runs recorded for the agent (team mode) that this tick started
    started: list[str] = field(default_factory=list)
    #: runs a killed agent had claimed and never started, queued again by this tick
    taken_back: list[str] = field(default_factory=list)
    fired: list[tuple[ScheduleInfo, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def holder_id() -> str:
    """This process, as a lease holder: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class TickMixin(_ServiceBase):
    # ---- the tick -------------------------------------------------------------------------

    def tick(self, known: list[str] | tuple[str, ...] = (), *, discover: bool = True,
             schedules: bool = True, now: datetime | None = None,
             write: bool = True) -> TickReport:
        """One round of the periodic work. ``known``: keys of runs the caller follows (their
        state is reported even once they ended). ``write=False``: only read the states (a
        Jupyter server while an agent does the work)."""
        report = TickReport()
        if write and (not self.settings.team_mode or self.ticker == "agent"):
            # team mode: the runs users' servers recorded for the agent
            try:
                report.taken_back = self.take_back_lost_claims()
                report.started = self.start_queued_runs()
            except Exception as exc:
                report.errors.append(f"starting the queued runs: {_say(exc)}")
        if write and discover:
            try:
                report.discovered = self.discover_runs()
            except Exception as exc:  # a backend's API that fails: the next tick looks again
                report.errors.append(f"looking for runs a backend started: {_say(exc)}")
        if write and schedules:
            try:
                report.fired = self.fire_schedules(now)
            except Exception as exc:
                report.errors.append(f"running the schedules that are due: {_say(exc)}")
        keys = {f"run:{i}" for i in self.active_run_ids()}
        keys |= {f"pipeline:{i}" for i in self.active_pipeline_run_ids()}
        for key in sorted(keys | set(known)):
            kind, _, run_id = key.partition(":")
            try:
                if kind == "run":
                    report.states.append(self.get_run(run_id, reconcile=write))
                else:  # resumed if its scheduler is gone
                    report.states.append(self.get_pipeline_run(run_id, reconcile=write))
            except NotFound:  # deleted with its job or pipeline
                report.gone.append(key)
            except Exception as exc:
                report.errors.append(f"reconciling {key}: {_say(exc)}")
        for hook in list(self.tick_hooks):
            if write:
                try:
                    hook(self)
                except Exception as exc:
                    report.errors.append(f"{getattr(hook, '__name__', hook)}: {_say(exc)}")
        return report

    def take_back_lost_claims(self, now: datetime | None = None) -> list[str]:
        """Team mode: runs claimed by another process (an agent that was killed between the
        claim and the start) that are still queued with nothing on a backend are queued for the
        agent again, so they start instead of waiting forever. Their ids."""
        now = now or _now()
        with self.store.session() as s:
            claimed = list(s.execute(select(Run.id, Run.run_dir, Run.backend_ref).where(
                Run.queue == "claimed", Run.status == "queued")))
        back: list[str] = []
        for run_id, run_dir, ref in claimed:
            claim = read_json(os.path.join(run_dir, CLAIM_FILE)) or {}
            at = claim.get("at")
            if ref or claim.get("holder") == holder_id() or (
                    at and now - datetime.fromisoformat(at) < CLAIM_GRACE):
                continue
            with self.store.session() as s:
                moved = cast("CursorResult[Any]", s.execute(update(Run).where(
                    Run.id == run_id, Run.queue == "claimed", Run.status == "queued",
                ).values(queue="agent"))).rowcount
            if moved:
                back.append(run_id)
        return back

    def reconcile_active(self) -> None:
        """Bring every active run up to date (before a listing, with nobody else watching)."""
        for run_id in self.active_run_ids():
            try:
                self.reconcile(run_id)
            except ShipError:
                pass  # e.g. its backend is down: listed as last known

    # ---- the agent's lease ----------------------------------------------------------------

    def acquire_lease(self, holder: str, ttl: float = LEASE_TTL, pid: int | None = None,
                      host: str | None = None) -> bool:
        """Take or renew the agent lease before a tick (so its ``last_tick`` is now); whether
        ``holder`` has it."""
        now = _now()
        values = {"holder": holder, "renewed_at": now, "expires_at": now + timedelta(seconds=ttl),
                  "pid": pid if pid is not None else os.getpid(),
                  "host": host if host is not None else socket.gethostname()}
        with self.store.session() as s:
            renewed = cast("CursorResult[Any]", s.execute(
                update(Lease).where(Lease.name == AGENT_LEASE, Lease.holder == holder)
                .values(renewed_at=now, last_tick=now,
                        expires_at=values["expires_at"]))).rowcount
            if renewed:
                return True
            taken = cast("CursorResult[Any]", s.execute(
                update(Lease).where(Lease.name == AGENT_LEASE, Lease.expires_at < now)
                .values(**values, since=now, last_tick=now))).rowcount
            if taken:
                return True
        try:
            with self.store.session() as s:
                if s.get(Lease, AGENT_LEASE) is not None:
                    return False
                s.add(Lease(name=AGENT_LEASE, since=now, last_tick=now, **values))
            return True
        except IntegrityError:  # another agent inserted it first
            return False

    def release_lease(self, holder: str) -> None:
        with self.store.session() as s:
            s.execute(delete(Lease).where(Lease.name == AGENT_LEASE, Lease.holder == holder))

    def agent(self) -> AgentInfo | None:
        """The agent holding the lease, if its lease is live."""
        with self.store.session() as s:
            row = s.get(Lease, AGENT_LEASE)
            if row is None or row.expires_at < _now():
                return None
            return AgentInfo(holder=row.holder, host=row.host, pid=row.pid, since=row.since,
                             last_tick=row.last_tick, expires_at=row.expires_at)


def _say(exc: BaseException) -> str:
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
