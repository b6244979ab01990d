"""ml-ship ship | jobs | versions | rollback | delete"""

from __future__ import annotations

import argparse

from ._common import (
    add_param_option,
    command,
    dump_json,
    err,
    owner_text,
    params_of,
    service,
    table,
    when,
)
from ._runs import follow


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "ship", "ship a notebook as a new version of its job", cmd_ship)
    p.add_argument("notebook")
    p.add_argument("--name", help="job name (default: metadata.ml_ship.name or the file name)")
    p.add_argument("-m", "--message", default="", help="what changed in this version")
    p.add_argument("--run", action="store_true", help="start a run of the shipped version")
    p.add_argument("--backend", help="backend of the run (local, docker, airflow)")
    p.add_argument("--wait", action="store_true", help="with --run: follow it to the end")
    add_param_option(p)

    command(sub, "jobs", "list jobs", cmd_jobs)

    p = command(sub, "versions", "a job's versions, newest first", cmd_versions)
    p.add_argument("job")

    p = command(sub, "rollback", "make an earlier version the current one", cmd_rollback)
    p.add_argument("job")
    p.add_argument("version", type=int)

    p = command(sub, "delete", "delete a job with its versions and runs", cmd_delete, json=False)
    p.add_argument("job")


def cmd_ship(args: argparse.Namespace) -> int:
    svc = service()
    params = params_of(args)
    run = args.run or args.wait or bool(params)
    result = svc.ship(args.notebook, name=args.name, message=args.message, run=run,
                      parameters=params, backend=args.backend)
    if args.json and not args.wait:
        dump_json(result)
        return 0
    v = result.version
    state = ("new version" if result.created else
             f"same content as v{v.number}, which is current again"
             if result.made_current else "unchanged, same version")
    files = f", {v.project.files} project file(s)" if v.project and v.project.files else ""
    err(f"shipped {v.job} v{v.number} ({state}, digest {v.digest[:12]}{files})")
    if result.run is None:
        return 0
    err(f"run {result.run.id} started on {result.run.backend}")
    if not args.wait:
        print(result.run.id)
        return 0
    return follow(svc, result.run.id, as_json=args.json)


def cmd_jobs(args: argparse.Namespace) -> int:
    jobs = service().jobs()
    if args.json:
        dump_json({"jobs": jobs})
        return 0
    table(["JOB", "OWNER", "CURRENT", "LATEST", "LAST RUN", "STATUS", "UPDATED"], [
        [j.name, owner_text(j.owner, j.owners), f"v{j.current_version}", f"v{j.latest_version}",
         j.last_run.id if j.last_run else "-", j.last_run.status if j.last_run else "-",
         when(j.updated_at)] for j in jobs
    ])
    for j in jobs:
        if j.schedule_error:
            err(f"{j.name} v{j.current_version}: metadata.ml_ship.schedule: {j.schedule_error}: "
                "nothing runs it")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    versions = service().versions(args.job)
    if args.json:
        dump_json({"versions": versions})
        return 0
    table(["", "VERSION", "DIGEST", "CREATED", "AUTHOR", "MESSAGE"], [
        ["*" if v.is_current else "", f"v{v.number}", v.digest[:12], when(v.created_at),
         v.author, v.message] for v in versions
    ])
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    job = service().rollback(args.job, args.version)
    if args.json:
        dump_json(job)
    else:
        err(f"{job.name}: current version is now v{job.current_version}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    service().delete_job(args.job)
    err(f"deleted job {args.job}")
    return 0
