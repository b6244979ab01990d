"""ml-ship files | diff: a run's artifacts, a version's project files, two versions compared."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ..errors import BadInput
from ._common import command, dump_json, err, service, table


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "files", "the files a run wrote (its artifacts), or fetch them", cmd_files,
                description="Without PATH: list the run's artifacts. With PATH and -o FILE: "
                            "fetch one; -o DIR without PATH: fetch them all into DIR.")
    p.add_argument("run")
    p.add_argument("path", nargs="?", help="an artifact's path (as listed)")
    p.add_argument("-o", "--output", help="where to write the file (or, without PATH, a folder)")

    p = command(sub, "diff", "compare two versions of a job: notebook sources and project files",
                cmd_diff)
    p.add_argument("job")
    p.add_argument("a", type=int, help="a version number")
    p.add_argument("b", type=int, nargs="?", help="another (default: the current version)")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def cmd_files(args: argparse.Namespace) -> int:
    svc = service()
    if args.path is None and args.output is None:
        listing = svc.run_files(args.run)
        if args.json:
            dump_json(listing)
            return 0
        if not listing.files and not listing.not_kept:
            err(f"run {args.run} wrote no files")
        table(["PATH", "SIZE"], [[f.path, _size(f.size)] for f in listing.files])
        for f in listing.not_kept:
            err(f"not kept (over max_artifact_bytes): {f.path} ({_size(f.size)})")
        for i in listing.inputs:
            err(f"input {i.parameter}: {i.file} from run {i.run_id}"
                + (f" (step {i.step})" if i.step else ""))
        return 0
    if args.path is None:  # every artifact into a folder
        out = Path(args.output)
        if out.exists() and not out.is_dir():
            raise BadInput(f"-o {args.output}: not a folder (give PATH to fetch one file)")
        files = svc.run_files(args.run).files
        for f in files:
            src, _ = svc.run_file(args.run, f.path)
            (out / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out / f.path)
        err(f"{len(files)} file(s) written under {out}")
        return 0
    src, _ = svc.run_file(args.run, args.path)
    if args.output in (None, "-"):
        with open(src, "rb") as fh:
            shutil.copyfileobj(fh, sys.stdout.buffer)
        return 0
    out = Path(args.output)
    if out.is_dir():
        out = out / Path(args.path).name
    shutil.copyfile(src, out)
    err(f"wrote {out}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    d = service().diff_versions(args.job, args.a, args.b)
    if args.json:
        dump_json(d)
        return 0
    print(f"{d.job}: v{d.a} → v{d.b}")
    print(d.notebook_text.rstrip() if d.notebook_text else "notebook: no change in its sources")
    if d.added or d.removed or d.changed:
        print("\nproject files:")
        for f in d.added:
            print(f"  added    {f.path} ({_size(f.size)})")
        for f in d.removed:
            print(f"  removed  {f.path} ({_size(f.size)})")
        for c in d.changed:
            print(f"  changed  {c.path} ({_size(c.size_a or 0)} → {_size(c.size_b or 0)})")
    else:
        print("\nproject files: no change")
    return 0
