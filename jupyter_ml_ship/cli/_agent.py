"""ml-ship agent: the periodic work of a store with no Jupyter server (``ShipService.tick``)."""

from __future__ import annotations

import argparse
import signal
import threading
import time
from datetime import datetime, timezone
from typing import Any

from ._common import command, service

#: how often an agent looks when nothing is due sooner (a schedule's tick wakes it on time)
INTERVAL = 1.0
#: an idle agent's full tick at least this often (time-based work no write announces: a
#: notification's retry); between them, a look finds nothing changed in the store and skips it
QUIET_TICK_EVERY = 5.0


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "agent", "do the periodic work with no Jupyter server: schedules, "
                "pipelines, runs, discovery", cmd_agent, json=False,
                description="Runs in the foreground and logs to stdout; SIGTERM or Ctrl-C stops "
                            "it. One agent per store holds its lease: a second one waits and "
                            "takes over within seconds when the first dies. While an agent "
                            "runs, Jupyter servers on the same store leave this work to it.")
    p.add_argument("--once", action="store_true", help="one tick, then exit")
    p.add_argument("--interval", type=float, default=INTERVAL,
                   help=f"seconds between ticks when nothing is due sooner ({INTERVAL:g})")
    p.add_argument("--lease-ttl", type=float, default=None,
                   help="seconds after which a silent agent's lease is taken over (10)")


def _log(msg: str) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} ml-ship agent: {msg}", flush=True)


def _next_due_at(svc: Any) -> datetime | None:
    """When the earliest schedule this agent fires is due (None: none)."""
    ticks = [s.next_run for s in svc.schedules() if s.runner == "ml-ship" and s.next_run]
    return min(ticks) if ticks else None


class StoreMarker:
    """A cheap "did anyone write the store since?": SQLite's ``PRAGMA data_version`` on a
    private read-only connection, which changes with every commit of any other connection (the
    service's own included). None for other stores: every look is then a tick."""

    def __init__(self, url: str):
        import sqlite3
        from urllib.parse import quote

        from sqlalchemy.engine import make_url

        self.conn: Any = None
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "",
                                                                                ":memory:"):
            try:
                self.conn = sqlite3.connect(f"file:{quote(str(parsed.database))}?mode=ro",
                                            uri=True, check_same_thread=False)  # one at a time
            except sqlite3.Error:
                self.conn = None

    def read(self) -> int | None:
        if self.conn is None:
            return None
        try:
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])
        except Exception:  # the file replaced, say: a tick every time
            return None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class Agent:
    def __init__(self, svc: Any, interval: float, ttl: float, log: Any = _log):
        from ..core.tick import holder_id

        self.svc, self.interval, self.ttl, self.log = svc, interval, ttl, log
        self.holder = holder_id()
        self.marker = StoreMarker(svc.store.url)
        #: the store's marker read before the last tick (None: tick at the next look)
        self.seen: int | None = None
        self.last_tick = 0.0  # monotonic
        self.active = True  # whether the last tick saw runs going on
        self.schedules_seen: int | None = None  # the marker when the schedules were last read
        self.stop = threading.Event()
        self.last: dict[str, Any] = {}
        self.next_discover = 0.0  # monotonic time of the next look for runs a backend started
        #: schedules are looked at when one is due, and every schedule_interval s for new ones
        self.next_schedules = 0.0
        self.due_at: datetime | None = None

    def _report(self, report: Any) -> None:
        for sched, outcome in report.fired:
            self.log(f"schedule {sched.schedule!r} of {sched.kind} {sched.name} "
                     f"v{sched.version}: {outcome}")
        for run_id in report.taken_back:
            self.log(f"took back {run_id}: claimed by an agent that stopped before starting it")
        for run_id in report.started:
            self.log(f"started {run_id}, queued by a user's server")
        for run_id in report.discovered:
            self.log(f"recorded {run_id}, started by a backend's own scheduler")
        for error in report.errors:
            self.log(f"error: {error}")
        for info in report.states:
            key = ("pipeline:" if hasattr(info, "steps") else "run:") + info.id
            if self.last.get(key) != info.status:
                what = f"pipeline {info.pipeline}" if hasattr(info, "steps") else \
                    f"{info.job} v{info.version}"
                self.log(f"{key.split(':')[0]} {info.id} ({what}): {info.status}")
                self.last[key] = info.status
        for key in report.gone:
            self.last.pop(key, None)

    def known(self) -> list[str]:
        from ..core import TERMINAL_STATUSES

        return [k for k, st in self.last.items() if st not in TERMINAL_STATUSES]

    def _turns(self, now: float, mark: int | None) -> tuple[bool, bool]:
        """Whether discovery's and the schedules' turns came. The schedules are read again
        when one is due, or every schedule_interval s if the store changed since (a ship)."""
        discover = now >= self.next_discover and self.svc.settings.discover_interval > 0
        changed = mark is None or mark != self.schedules_seen
        schedules = (now >= self.next_schedules and changed) or (
            self.due_at is not None and datetime.now(timezone.utc) >= self.due_at)
        return discover, schedules

    def quiet(self, mark: int | None) -> bool:
        """Whether a look can skip the tick: no run going on, nobody wrote the store since the
        last tick began, no turn of discovery or schedules, and the last tick is recent."""
        now = time.monotonic()
        return (mark is not None and mark == self.seen and not self.active
                and now - self.last_tick < QUIET_TICK_EVERY and not any(self._turns(now, mark)))

    def tick(self, mark: int | None = None) -> Any:
        """One tick: discovery and schedules only when their turn came (an idle agent over
        many schedules costs little). ``mark``: the store's change marker read before it."""
        svc, now = self.svc, time.monotonic()
        discover, schedules = self._turns(now, mark)
        if discover:
            self.next_discover = now + svc.settings.discover_interval
        report = svc.tick(self.known(), discover=discover, schedules=schedules)
        if schedules:
            self.schedules_seen = mark
            self.next_schedules = now + max(1, svc.settings.schedule_interval or 15)
            self.due_at = _next_due_at(svc)
        return report

    def run(self, once: bool = False) -> int:
        svc, holder = self.svc, self.holder
        svc.ticker = "agent"
        # the warm runner starts with the first local run, owned by this agent: it exits with
        # it, even when the agent is killed (a single tick has no next run to speed up)
        svc.warm_on_first_run = not once
        waiting = held = False
        renew_at = 0.0  # monotonic: the lease is renewed a few times per TTL, not every look
        try:
            while not self.stop.is_set():
                before = self.marker.read() if held else None
                if held and time.monotonic() < renew_at:
                    pass
                elif not svc.acquire_lease(holder, self.ttl):
                    if held:
                        self.log("lost the lease (not renewed in time): waiting to take over")
                        held = False
                    other = svc.agent()
                    if once:
                        self.log(f"another agent ({other.holder if other else '?'}) holds the "
                                 "lease: nothing done")
                        return 0
                    if not waiting:
                        self.log(f"another agent ({other.holder if other else '?'}) holds the "
                                 "lease: waiting to take over")
                        waiting = True
                    self.stop.wait(min(self.interval, self.ttl / 3))
                    continue
                else:
                    renew_at = time.monotonic() + self.ttl / 3
                    if before is not None:  # what changed since is our renewal only
                        after = self.marker.read()
                        self.seen = after if before == self.seen else self.seen
                        self.schedules_seen = after if before == self.schedules_seen \
                            else self.schedules_seen
                if not held:
                    self.log(f"holding the lease as {holder}" + (" (took over)" if waiting
                                                                else ""))
                    held, waiting = True, False
                mark = self.marker.read()  # before the tick: a write during it is seen next
                if once or not self.quiet(mark):
                    self.seen, self.last_tick = mark, time.monotonic()
                    report = self.tick(mark)
                    self._report(report)
                    self.active = bool(self.known()) or bool(report.states)
                if once:
                    break
                wait = self.interval
                if self.due_at is not None:  # wake for a schedule's tick on time
                    until_due = (self.due_at - datetime.now(timezone.utc)).total_seconds()
                    wait = min(wait, until_due + 0.001)
                self.stop.wait(max(wait, 0.01))
        finally:
            self.marker.close()
            svc.release_lease(holder)
            if svc.started_warm_runner:
                svc.stop_warm_runner()
            self.log("stopped")
        return 0


def cmd_agent(args: argparse.Namespace) -> int:
    from ..core.tick import LEASE_TTL

    agent = Agent(service(), args.interval, args.lease_ttl or LEASE_TTL)

    def stop(signum: int, _frame: Any) -> None:
        agent.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.log(f"home {agent.svc.home}, store {agent.svc.store.safe_url}")
    return agent.run(once=args.once)
