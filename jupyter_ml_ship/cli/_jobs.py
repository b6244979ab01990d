"""ml-ship ship | jobs | versions | rollback | delete"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from . import _quick
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
    p = command(sub, "ship", "ship a notebook (or a script) as a new version of its job",
                cmd_ship)
    p.add_argument("notebook", help="a notebook (.ipynb), or a script read by Jupytext: .py or "
                   ".R (percent or light format) or a Markdown notebook (.md)")
    p.add_argument("--name", help="job name (default: metadata.ml_ship.name or the file name)")
    p.add_argument("-m", "--message", default="", help="what changed in this version")
    p.add_argument("--run", action="store_true", help="start a run of the shipped version")
    p.add_argument("--backend", help="backend of the run (local, docker, airflow)")
    p.add_argument("--wait", action="store_true", help="with --run: follow it to the end")
    p.add_argument("--max-bytes", type=size, metavar="SIZE",
                   help="largest project folder for this ship, e.g. 500M or 2G (default: "
                        "MlShip.max_project_bytes, 200M)")
    p.add_argument("--max-files", type=count, metavar="N",
                   help="most files in the project folder for this ship (default: "
                        "MlShip.max_project_files, 5000)")
    p.add_argument("--git-ref", metavar="REF", help="ship the notebook's project as committed "
                   "at this commit, branch or tag (not the working tree)")
    add_param_option(p)

    command(sub, "jobs", "list jobs", cmd_jobs)

    p = command(sub, "versions", "a job's versions, newest first", cmd_versions)
    p.add_argument("job")

    p = command(sub, "rollback", "make an earlier version the current one", cmd_rollback)
    p.add_argument("job")
    p.add_argument("version", type=int)

    p = command(sub, "delete", "delete a job with its versions and runs", cmd_delete, json=False)
    p.add_argument("job")


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)


def size(text: str) -> int:
    """``--max-bytes``: bytes, or a number with K, M, G or T (powers of 1024: 500M, 2GB)."""
    m = _SIZE.fullmatch(text)
    value = int(float(m[1]) * 1024 ** " KMGT".index(m[2].upper() or " ")) if m else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (bytes, or e.g. 500M, 2G)")
    return value


def count(text: str) -> int:
    """``--max-files``: a positive whole number."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def cmd_ship(args: argparse.Namespace) -> int:
    svc = service()
    if args.max_bytes is not None:  # this ship only: an admin-approved big folder
        svc.settings.max_project_bytes = args.max_bytes
    if args.max_files is not None:
        svc.settings.max_project_files = args.max_files
    params = params_of(args)
    run = args.run or args.wait or bool(params)
    if getattr(args, "git_ref", None):
        from ..core.provenance import checkout_at

        with checkout_at(Path(args.notebook), args.git_ref) as at:
            result = svc.ship(at.notebook, name=args.name, message=args.message, run=run,
                              parameters=params, backend=args.backend, git=at.git,
                              source=str(Path(args.notebook).resolve()),
                              exported_from=(at.tree, at.repo))
    else:
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
    if v.promotion in ("candidate", "validating") and result.created:  # gated promotion
        err(f"v{v.number} is a candidate: " + (
            f"its validation run {v.validation_run_id} decides whether it becomes current "
            f"(`ml-ship versions {v.job}` says how it went)" if v.promotion == "validating"
            else str(v.promotion_reason)))
    if result.trigger_token:  # shown this once: only its hash is kept (core.triggers)
        err(f"webhook trigger of {v.job} (shown once, keep it secret): POST "
            f"/ml-ship/api/triggers/{result.trigger_token}")
    if result.run is None:
        return 0
    err(f"run {result.run.id} started on {result.run.backend}")
    if not args.wait:
        print(result.run.id)
        return 0
    return follow(svc, result.run.id, as_json=args.json)


def cmd_jobs(args: argparse.Namespace) -> int:
    # the table straight from a local SQLite store: no SQLAlchemy, pydantic or traitlets to
    # import (``_quick``); the service for --json, another database or a remote server
    jobs: Any = None if args.json else _quick.jobs()
    if jobs is None:
        jobs = service().jobs()
        if args.json:
            dump_json({"jobs": jobs})
            return 0
        jobs = [_quick.JobRow(
            name=j.name, owner=j.owner, owners=j.owners, current_version=j.current_version,
            latest_version=j.latest_version, last_run_id=j.last_run.id if j.last_run else None,
            last_run_status=j.last_run.status if j.last_run else None,
            updated_at=j.updated_at, schedule_error=j.schedule_error) for j in jobs]
    table(["JOB", "OWNER", "CURRENT", "LATEST", "LAST RUN", "STATUS", "UPDATED"], [
        [j.name, owner_text(j.owner, j.owners),
         f"v{j.current_version}" if j.current_version is not None else "- (candidate)",
         f"v{j.latest_version}", j.last_run_id or "-", j.last_run_status or "-",
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
    table(["", "VERSION", "DIGEST", "CREATED", "AUTHOR", "STATE", "ENVIRONMENTS", "COMMIT",
           "MESSAGE"], [
        ["*" if v.is_current else "", f"v{v.number}", v.digest[:12], when(v.created_at),
         v.author, _state(v), ",".join(v.environments) or "-", _commit(v), v.message]
        for v in versions
    ])
    for v in versions:  # where each came from: the commit's page on GitHub / GitLab
        if v.git is not None and v.git.url:
            err(f"v{v.number}: {v.git.url}")
    for v in versions:  # why a candidate is not current (yet), why a version was rolled back
        if v.auto_rollback is not None:
            err(f"v{v.number}: {v.auto_rollback.reason}")
        elif v.promotion in ("candidate", "rejected") and v.promotion_reason:
            err(f"v{v.number} {v.promotion}: {v.promotion_reason}")
    return 0


def _commit(v: Any) -> str:
    """A version's git commit for the table: short hash, branch, and whether it was dirty."""
    if v.git is None:
        return "-"
    return (v.git.commit[:10] + (f" ({v.git.branch})" if v.git.branch else "")
            + (" dirty" if v.git.dirty else ""))


def _state(v: Any) -> str:
    """A version's promotion state for the table (``-``: shipped without ``promote``)."""
    if v.auto_rollback is not None:
        return "rolled back"
    return str(v.promotion or "-")


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
