"""ml-ship images [JOB] | ml-ship images prune [JOB]: the Docker images of jobs."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import command, dump_json, err, service, table, when


def register(sub: argparse._SubParsersAction) -> None:
    p = command(
        sub, "images", "list the Docker images of jobs; 'images prune [JOB]' removes old ones",
        cmd_images,
        description="List job images (ml-ship images [JOB]) or remove every image of a job but "
                    "its current version's (ml-ship images prune [JOB]; all jobs without JOB).")
    p.add_argument("words", nargs="*", metavar="[prune] [JOB]")
    p.add_argument("--dry-run", action="store_true", help="with prune: only say what would go")
    p.add_argument("--all", action="store_true",
                   help="list the images of every job on the engine, not only this home's")


def _current_versions(svc: Any, job: str | None) -> dict[str, int | None]:
    if job:
        return {job: svc.job(job).current_version}
    return {j.name: j.current_version for j in svc.jobs()}


def _size(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


def cmd_images(args: argparse.Namespace) -> int:
    from ..errors import BadInput

    words = list(args.words)
    prune = bool(words) and words[0] == "prune"
    if prune:
        words = words[1:]
    if len(words) > 1:
        raise BadInput(f"images: one JOB at most, got {' '.join(words)}")
    job = words[0] if words else None
    svc = service()
    backend = svc.backend("docker")
    if prune:
        return _prune(svc, backend, job, args)
    current = {j.name: j.current_version for j in svc.jobs()}
    images = [{**i, "current": current.get(i["job"]) == i["version"]}
              for i in backend.images(job) if job or args.all or i["job"] in current]
    if args.json:
        dump_json({"images": images})
        return 0
    if not images:
        err(f"no images{' of job ' + job if job else ''} yet (they are built by the first "
            "run on the docker backend)")
        return 0
    table(["", "IMAGE", "JOB", "VERSION", "SIZE", "CREATED"], [
        ["*" if i["current"] else "", i["image"], i["job"], f"v{i['version']}", _size(i["size"]),
         when(_parse(i["created"]))] for i in images
    ])
    return 0


def _parse(value: str | None) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(value) if value else None


def _prune(svc: Any, backend: Any, job: str | None, args: argparse.Namespace) -> int:
    removed, kept = backend.prune(_current_versions(svc, job), dry_run=args.dry_run)
    if args.json:
        dump_json({"removed": removed, "kept": kept, "dry_run": args.dry_run})
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for i in removed:
        print(f"{verb} {i['image']} ({_size(i['size'])})")
    for i in kept:
        print(f"kept {i['image']} ({i['reason']})")
    done = "would be removed" if args.dry_run else "removed"
    err(f"{len(removed)} image(s) {done}, {len(kept)} kept (layers shared with kept images "
        "stay on disk)")
    return 0
