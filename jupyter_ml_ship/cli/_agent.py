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


class Agent:
    def __init__(self, svc: Any, interval: float, ttl: float, log: Any = _log):
        from ..core.tick import holder_id

        self.svc, self.interval, self.ttl, self.log = svc, interval, ttl, log
        self.holder = holder_id()
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

    def tick(self) -> Any:
        """One tick: discovery and schedules only when their turn came (an idle agent over
        many schedules costs little). The lease, renewed just before, says when it ticked."""
        svc, now = self.svc, time.monotonic()
        discover = now >= self.next_discover and svc.settings.discover_interval > 0
        if discover:
            self.next_discover = now + svc.settings.discover_interval
        schedules = now >= self.next_schedules or (
            self.due_at is not None and datetime.now(timezone.utc) >= self.due_at)
        report = svc.tick(self.known(), discover=discover, schedules=schedules)
        if schedules:
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
        try:
            while not self.stop.is_set():
                if not svc.acquire_lease(holder, self.ttl):
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
                if not held:
                    self.log(f"holding the lease as {holder}" + (" (took over)" if waiting
                                                                else ""))
                    held, waiting = True, False
                report = self.tick()
                self._report(report)
                if once:
                    break
                wait = self.interval
                if self.due_at is not None:  # wake for a schedule's tick on time
                    until_due = (self.due_at - datetime.now(timezone.utc)).total_seconds()
                    wait = min(wait, until_due + 0.001)
                self.stop.wait(max(wait, 0.01))
        finally:
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
