"""``ml-ship schedules``: what runs on a schedule, when next; ``schedules fire``: start what is
due; ``ml-ship schedule NAME``: edit, pause or resume a schedule without a new version."""

from __future__ import annotations

import argparse

from ._common import command, dump_json, err, service, table, when


def register(sub: argparse._SubParsersAction) -> None:
    p = command(
        sub, "schedules", "jobs and pipelines that run on a schedule; 'schedules fire' starts "
        "the runs that are due", cmd_schedules,
        description="A job's metadata.ml_ship.schedule or a pipeline's schedule: (cron, read in "
                    "the schedule's time zone, UTC unless 'ml-ship schedule NAME --tz' set "
                    "another). On Airflow the DAG's own schedule runs it; on the other backends "
                    "the Jupyter server (or the agent) starts what is due every "
                    "MlShip.schedule_interval seconds. 'ml-ship schedules fire' does that once "
                    "(for a machine without a server: call it from cron).")
    p.add_argument("action", nargs="?", default="list", choices=["list", "fire"])
    e = command(
        sub, "schedule", "edit, pause or resume a job's or pipeline's schedule without a new "
        "version", cmd_schedule,
        description="Changes the schedule in place (audited; the next tick honours it). An "
                    "edited cron holds until a version is shipped with another schedule. Without "
                    "options it shows the schedule.")
    e.add_argument("name", help="the job (or, with --pipeline, the pipeline)")
    e.add_argument("--pipeline", action="store_true", help="NAME is a pipeline")
    e.add_argument("--cron", help="the new schedule: cron (5 fields) or a preset (@daily)")
    e.add_argument("--tz", "--timezone", dest="tz",
                   help="the IANA time zone the cron is read in (e.g. Europe/Paris; UTC)")
    state = e.add_mutually_exclusive_group()
    state.add_argument("--pause", action="store_true", help="its ticks start nothing")
    state.add_argument("--resume", action="store_true", help="its ticks start runs again")


def _state(s: object) -> str:
    return "paused" if getattr(s, "paused", False) else "active"


def cmd_schedule(args: argparse.Namespace) -> int:
    paused = True if args.pause else False if args.resume else None
    sched = service().edit_schedule("pipeline" if args.pipeline else None, args.name,
                                    cron=args.cron, timezone=args.tz, paused=paused)
    if args.json:
        dump_json(sched)
        return 0
    print(f"{sched.kind} {sched.name}: {sched.schedule} ({sched.timezone}), {_state(sched)}"
          f"{': ' + sched.description if sched.description else ''}")
    err(f"next run: {when(sched.next_run)}" if sched.next_run else
        "paused: nothing runs until 'ml-ship schedule " + sched.name + " --resume'"
        if sched.paused else "no next run")
    return 0


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
            "pipeline file, or 'ml-ship schedule NAME --cron ...')")
        return 0
    table(["KIND", "NAME", "VERSION", "SCHEDULE", "TIME ZONE", "STATE", "RUN BY", "NEXT",
           "LAST RUN"],
          [[s.kind, s.name, f"v{s.version}" + (
              f" ({s.environment})" if s.environment != "production" else ""),
            s.schedule + (f" ({s.description})" if s.description else ""), s.timezone,
            _state(s) + (" (edited)" if s.edited else ""),
            "Airflow" if s.runner == "airflow" else "Jupyter server",
            when(s.next_run) if s.next_run else "never" if s.schedule_error else "-",
            f"{when(s.last_run_at)} {s.last_run_status}" if s.last_run_id else
            when(s.last_fired)] for s in found])
    for s in found:
        if s.schedule_error:
            err(f"{s.kind} {s.name} v{s.version}: {s.schedule_error}: nothing runs it; ship a "
                "version with a schedule that fires, or 'ml-ship schedule "
                f"{s.name} --cron ...'")
    return 0
