"""``ml-ship schedules``: what runs on a schedule, when next; ``schedules fire``: start what is due."""

from __future__ import annotations

import argparse

from ._common import command, dump_json, err, service, table, when


def register(sub: argparse._SubParsersAction) -> None:
    p = command(
        sub, "schedules", "jobs and pipelines that run on a schedule; 'schedules fire' starts "
        "the runs that are due", cmd_schedules,
        description="A job's metadata.ml_ship.schedule or a pipeline's schedule: (cron, UTC). "
                    "On Airflow the DAG's own schedule runs it; on the other backends the "
                    "Jupyter server starts what is due every MlShip.schedule_interval seconds. "
                    "'ml-ship schedules fire' does that once (for a machine without a server: "
                    "call it from cron).")
    p.add_argument("action", nargs="?", default="list", choices=["list", "fire"])


def cmd_schedules(args: argparse.Namespace) -> int:
    svc = service()
    if args.action == "fire":
        fired = svc.fire_schedules()
        failed = [o for _, o in fired if o.startswith("error:")]
        if args.json:
            dump_json({"fired": [{**s.model_dump(mode="json"), "outcome": o} for s, o in fired]})
        else:
            for sched, outcome in fired:
                print(f"{sched.kind} {sched.name} v{sched.version} ({sched.schedule}): {outcome}")
            err(f"{len(fired)} schedule(s) were due" if fired else "no schedule is due")
        return 1 if failed else 0
    found = svc.schedules()
    if args.json:
        dump_json({"schedules": found})
        return 0
    if not found:
        err("no job or pipeline has a schedule (metadata.ml_ship.schedule, schedule: in a "
            "pipeline file)")
        return 0
    table(["KIND", "NAME", "VERSION", "SCHEDULE (UTC)", "RUN BY", "NEXT", "LAST FIRED"],
          [[s.kind, s.name, f"v{s.version}", s.schedule,
            "Airflow" if s.runner == "airflow" else "Jupyter server",
            when(s.next_run) if s.next_run else "never" if s.schedule_error else "-",
            when(s.last_fired)] for s in found])
    for s in found:
        if s.schedule_error:
            err(f"{s.kind} {s.name} v{s.version}: {s.schedule_error}: nothing runs it; ship a "
                "version with a schedule that fires")
    return 0
