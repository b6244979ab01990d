"""ml-ship run | runs | status | logs | cancel | delete-run | output | discover"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from typing import Any

from ._common import (
    add_param_option,
    command,
    dump_json,
    err,
    params_of,
    seconds,
    service,
    table,
    when,
)

FOLLOW_INTERVAL = 0.05


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "run", "start a run of a job (JOB or JOB@VERSION)", cmd_run)
    p.add_argument("job", metavar="JOB[@N]")
    p.add_argument("--backend")
    p.add_argument("--env", metavar="ENV", help="run the version of this environment "
                   "(staging, production…; default: production, the current version)")
    p.add_argument("--wait", action="store_true", help="follow the log; exit 1 unless it succeeds")
    add_param_option(p)

    p = command(sub, "runs", "list runs, newest first", cmd_runs)
    p.add_argument("--job")
    p.add_argument("--status")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--outputs", action="store_true", help="one column per parameter and "
                   "recorded output (needs --job)")

    p = command(sub, "status", "one run's status, error and outputs", cmd_status)
    p.add_argument("run")

    p = command(sub, "logs", "a run's log", cmd_logs, json=False)
    p.add_argument("run")
    p.add_argument("-f", "--follow", action="store_true",
                   help="keep printing until the run ends; exit 1 unless it succeeded")

    p = command(sub, "cancel", "stop a run", cmd_cancel)
    p.add_argument("run")

    p = command(sub, "delete-run", "delete an ended run with its log, notebooks and files",
                cmd_delete_run, json=False)
    p.add_argument("run")

    p = command(sub, "output", "the executed notebook of a run", cmd_output, json=False)
    p.add_argument("run")
    p.add_argument("-o", "--output", help="write it to this file instead of stdout")

    command(sub, "discover", "record the runs Airflow started itself (its schedule, its UI)",
            cmd_discover)


def split_ref(ref: str) -> tuple[str, int | None]:
    from ..errors import BadInput

    name, _, number = ref.partition("@")
    if not number:
        return name, None
    try:
        return name, int(number.lstrip("v"))
    except ValueError:
        raise BadInput(f"{ref!r}: the version after '@' must be a number") from None


def environment_version(svc: Any, job: str, version: int | None, env: str) -> int:
    """The version ``--env ENV`` runs (JobInfo.environments: the same locally and remote)."""
    from ..errors import BadInput, NotFound

    if version is not None:
        raise BadInput(f"--env {env} and {job}@{version}: name the version or the environment, "
                       "not both")
    found = svc.job(job).environments.get(env)
    if found is None:
        raise NotFound(f"job {job!r} has no version in {env} (`ml-ship promote {job} N --to "
                       f"{env}` puts one there)")
    return int(found)


def cmd_run(args: argparse.Namespace) -> int:
    if not getattr(args, "env", None):  # a Jupyter server up on this store starts it warm
        from ._via_server import run

        code = run(args)
        if code is not None:
            return code
    svc = service()
    job, version = split_ref(args.job)
    if getattr(args, "env", None):
        version = environment_version(svc, job, version, args.env)
    info = svc.run(job, version, params_of(args), args.backend)
    if args.wait:
        err(f"run {info.id} of {info.job} v{info.version} started on {info.backend}")
        return follow(svc, info.id, as_json=args.json)
    if args.json:
        dump_json(info)
    else:
        print(info.id)
    return 0


def follow(svc: Any, run_id: str, as_json: bool = False, out: Any = None) -> int:
    """Print the log as it grows until the run ends; 0 only if it succeeded."""
    from ..core.notifications import deliver_pending
    from ..models import TERMINAL_STATUSES

    out = out or (sys.stderr if as_json else sys.stdout)
    offset = 0
    if hasattr(type(svc), "stream_log"):  # a remote server: its log WebSocket, live
        _, offset = svc.stream_log(run_id, out)  # (polling on from there if it could not)
    while True:
        info = svc.get_run(run_id)
        data, offset = svc.read_log(run_id, offset)
        while data:
            out.write(data.decode("utf-8", "replace"))
            data, offset = svc.read_log(run_id, offset)
        out.flush()
        if info.status in TERMINAL_STATUSES:
            break
        time.sleep(getattr(svc, "follow_interval", FOLLOW_INTERVAL))
    if not getattr(svc, "remote", False):  # a remote server sends its own
        deliver_pending(svc, background=False)  # notifications: no server may be up to send
    if as_json:
        dump_json(info)
    else:
        tail = f": {info.error.message}" if info.error else ""
        err(f"run {info.id} {info.status} in {seconds(info.duration)}{tail}")
    return 0 if info.status == "succeeded" else 1


def cmd_runs(args: argparse.Namespace) -> int:
    svc = service()
    svc.reconcile_active()  # no server or agent may be watching them: their news first
    if args.outputs:
        from ._compare import print_history

        return print_history(svc, args.job, args.status, args.limit, args.json)
    runs, _ = svc.runs(job=args.job, status=args.status, limit=args.limit)
    if args.json:
        dump_json({"runs": runs})
        return 0
    table(["RUN", "JOB", "VERSION", "STATUS", "BACKEND", "STARTED", "DURATION"], [
        [r.id, r.job, f"v{r.version}", r.status, r.backend, when(r.started_at),
         seconds(r.duration)] for r in runs
    ])
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    info = service().get_run(args.run)
    if args.json:
        dump_json(info)
        return 0
    rows = [
        ("run", info.id), ("job", f"{info.job} v{info.version}"), ("status", info.status),
        ("health", info.health if info.status == "succeeded" else "-"),
        ("backend", info.backend), ("attempts", f"{info.attempts}/{info.max_attempts}"),
        ("started", when(info.started_at)), ("ended", when(info.ended_at)),
        ("duration", seconds(info.duration)), ("parameters", info.parameters or "-"),
    ]
    if info.error:
        rows.append(("error", info.error.message))
        if info.error.hint:
            rows.append(("hint", info.error.hint))
    for name, value in info.outputs.items():
        rows.append((f"output {name}", value))
    if info.spark is not None:  # a PySpark job: its application on the master
        rows.append(("spark app", f"{info.spark.app_id} on {info.spark.master}"))
        rows.append(("spark ui", info.spark.ui_url or "-"))
    for c in info.checks:  # metadata.ml_ship.checks, as evaluated when it ended
        rows.append((f"check {c.rule}", ("ok    " if c.passed else "FAILED ") + c.message))
    for k, v in rows:
        print(f"{k:>12}  {v}")
    if info.error and (info.error.cell_source or info.error.traceback):
        print_error_location(info.error)
    return 0


def print_error_location(error: Any) -> None:
    """The failing cell (numbered as in the user's notebook, the line marked) and the
    traceback, ANSI colours kept on a terminal."""
    if error.cell_source is not None:
        line = f", line {error.line}" if error.line else ""
        print(f"\ncell {error.cell_number}{line}:")
        for n, text in enumerate(error.cell_source.splitlines(), 1):
            print(f"{'-->' if n == error.line else '   '} {n:>3}  {text}")
    if error.traceback:
        text = error.traceback
        if not sys.stdout.isatty():
            text = re.sub(r"\x1b\[[0-9;?]*[@-~]", "", text)
        print("\ntraceback:")
        print(text)


def cmd_logs(args: argparse.Namespace) -> int:
    svc = service()
    if args.follow:  # like run --wait: 0 only when it succeeded (CI waits on a gate this way)
        return follow(svc, args.run)
    offset = 0
    while True:
        data, offset = svc.read_log(args.run, offset)
        if not data:
            return 0
        sys.stdout.write(data.decode("utf-8", "replace"))


def cmd_cancel(args: argparse.Namespace) -> int:
    svc = service()
    before = svc.get_run(args.run)
    info = svc.cancel(args.run)
    if args.json:
        dump_json(info)
    elif before.status == "cancelled":
        err(f"run {info.id} was already cancelled")
    else:
        err(f"run {info.id} cancelled")
    return 0


def cmd_delete_run(args: argparse.Namespace) -> int:
    service().delete_run(args.run)
    err(f"deleted run {args.run}")
    return 0


def cmd_output(args: argparse.Namespace) -> int:
    path = service().output_path(args.run)
    if args.output:
        shutil.copyfile(path, args.output)
        err(f"wrote {args.output}")
    else:
        sys.stdout.write(path.read_text())
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """What the Jupyter server does every MlShip.discover_interval seconds, once."""
    found = service().discover_runs(skip_unavailable=False)
    if args.json:
        dump_json({"runs": found})
        return 0
    for run_id in found:
        print(run_id)
    err(f"{len(found)} new run(s) recorded" if found else "no new runs")
    return 0
