"""ml-ship health [JOB]: how jobs' checked outputs went over their recent runs."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import command, dump_json, service, table

RECENT = 8


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "health", "the health of a job's checked outputs over its recent runs "
                "(no JOB: every job)", cmd_health)
    p.add_argument("job", nargs="?", metavar="JOB")
    p.add_argument("--limit", type=int, default=100,
                   help="recent succeeded runs per job to look at (default 100)")


def cmd_health(args: argparse.Namespace) -> int:
    from ..core.checks.health import job_health

    svc = service()
    svc.reconcile_active()  # no server or agent may be watching them: their news first
    if args.job:
        health = job_health(svc, args.job, args.limit)
        if args.json:
            dump_json(health)
        else:
            print_job(health)
        return 0
    everything = [job_health(svc, j.name, args.limit) for j in svc.jobs()]
    if args.json:
        dump_json({"jobs": everything})
        return 0
    table(["JOB", "HEALTH", "RUN", "SUCCEEDED", "DEGRADED", "FAILED", "FAILING CHECKS"], [
        [h.job, h.health or "-", h.latest_run_id or "-", h.counts.succeeded, h.counts.degraded,
         h.counts.failed, "; ".join(h.failing) or "-"] for h in everything])
    return 0


def print_job(h: Any) -> None:
    verdict = h.health or "no succeeded run yet"
    latest = f" (run {h.latest_run_id})" if h.latest_run_id else ""
    print(f"{h.job} v{h.current_version}: {verdict}{latest}")
    c = h.counts
    print(f"runs {c.runs}: {c.succeeded} succeeded ({c.healthy} healthy, {c.degraded} degraded), "
          f"{c.failed} failed, {c.active} active")
    for message in h.failing:
        print(f"  failing: {message}")
    if not h.outputs:
        print("no checks (metadata.ml_ship.checks)")
        return
    print()
    table(["OUTPUT", "RULES", "LATEST", "PASSED", "FAILED", "RECENT (oldest first)"], [
        [o.name, _rules(o.rules), _num(o.latest), _yes(o.passed), f"{o.failed}/{len(o.points)}",
         " ".join(_num(p.value) + ("" if p.passed else "✗") for p in o.points[-RECENT:]) or "-"]
        for o in h.outputs])


def _rules(rules: dict[str, Any]) -> str:
    return ", ".join(k if v is True else f"{k} {_num(v) if not isinstance(v, dict) else v}"
                     for k, v in rules.items()) or "-"


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")
