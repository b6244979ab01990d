"""The scheduler of a pipeline run: ``drive`` advances it to its end; ``spawn`` starts a process
that does (``python -m jupyter_ml_ship.core.scheduler_process RUN_ID``, or forked by the warm
runner), detached (its own session), so scheduling goes on when the CLI exits.

The process holds an exclusive ``flock`` on ``HOME/pipeline-runs/ID/scheduler.lock`` while
alive: a second scheduler for the same run exits at once, and ``scheduler_alive`` tells a dead
one apart (the lock dies with its process). Between full ``advance`` calls it only watches the
run directories of its active steps for a ``result.json`` (inotify, ``_watch``), which keeps
the reaction to a finished step under a millisecond for no CPU.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import NotFound
from ...pipelines.models import PIPELINE_DONE, PipelineRunInfo
from ...runner import _warm
from ...runner._proc import start_time as _start_time
from ...store.files import atomic_write_json, read_json
from ..context import ShipContext
from ._watch import ResultWatch
from .pipeline_runs import StepPass, info, scheduling_of

#: seconds between full reconciliations (backends without local result files, process deaths)
FULL_INTERVAL = 2.0
#: consecutive failed passes after which a scheduler gives up (a follower will start another)
MAX_FAILURES = 30
SETTINGS_ENV = "ML_SHIP_SCHEDULER_SETTINGS"
#: the module a scheduler process runs (``main``; the warm runner forks its ``serve``)
PROCESS = "jupyter_ml_ship.core.scheduler_process"


def run_dir(ctx: ShipContext, run_id: str) -> Path:
    return ctx.home / "pipeline-runs" / run_id


@contextmanager
def lock(path: Path, exclusive: bool, patience: float = 0.0) -> Iterator[bool]:
    """Try to take the lock (for up to ``patience`` seconds); yields whether it was taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    give_up = time.monotonic() + patience
    with open(path, "a") as fh:
        while True:
            try:
                fcntl.flock(fh, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    yield False
                    return
                time.sleep(0.05)
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def scheduling(ctx: ShipContext, run_id: str) -> bool:
    """Whether a scheduler process holds this pipeline run now (past its start-up)."""
    with lock(run_dir(ctx, run_id) / "scheduler.lock", exclusive=False) as free:
        return not free


def scheduler_alive(ctx: ShipContext, run_id: str) -> bool:
    """Whether some process is scheduling this pipeline run (or a spawned one is starting)."""
    folder = run_dir(ctx, run_id)
    with lock(folder / "scheduler.lock", exclusive=False) as free:
        if not free:
            return True
    spawned = read_json(folder / "scheduler.json") or {}
    pid = spawned.get("pid")
    if not pid:
        return False
    return _start_time(pid) is not None and _start_time(pid) == spawned.get("start_time")


def spawn(ctx: ShipContext, run_id: str) -> int:
    """Start a detached scheduler process for a pipeline run; returns its pid."""
    folder = run_dir(ctx, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _warm.SETTINGS_VARIABLES}
    env["PYTHONUNBUFFERED"] = "1"
    # forked from the warm runner when it is up: no interpreter start, no imports, and the
    # settings travel over its private socket instead of an environment variable
    values = _settings_values(ctx)
    pid = _warm.start_scheduler(ctx.settings, run_id, values, folder / "scheduler.log", folder,
                                env, PROCESS)
    if pid is None:
        env[SETTINGS_ENV] = json.dumps(values)
        with open(folder / "scheduler.log", "ab") as log:
            pid = subprocess.Popen(
                [sys.executable, "-m", PROCESS, run_id],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=env, cwd=str(folder),
            ).pid
    atomic_write_json(folder / "scheduler.json", {"pid": pid, "start_time": _start_time(pid)})
    return pid


def _settings_values(ctx: ShipContext) -> dict[str, Any]:
    """The service's configuration, so the scheduler uses the same home, store and backends."""
    s = ctx.settings
    return {name: getattr(s, name) for name in s.trait_names(config=True)}


def drive(ctx: ShipContext, run_id: str, deadline: float | None = None,
          stop: Callable[[], bool] | None = None) -> PipelineRunInfo:
    """Advance a pipeline run until it ends (the loop of the scheduler process).

    Returns early at ``deadline`` (monotonic) or, after a pass, when ``stop()`` says so.
    """
    step_pass: StepPass | None = None  # our executor's, or the mirror's of an orchestrator
    only: set[str] | None = None
    failures = 0
    watch = ResultWatch()
    try:
        while True:
            try:
                step_pass = step_pass or scheduling_of(ctx, run_id)  # chosen once
                status, watched = step_pass(only)
                failures = 0
            except NotFound:
                raise  # the pipeline run (or its pipeline) was deleted
            except Exception:  # e.g. the store busy for long: report, wait, try again
                failures += 1
                traceback.print_exc()
                if failures >= MAX_FAILURES:
                    raise
                time.sleep(FULL_INTERVAL)
                only = None
                continue
            if status in PIPELINE_DONE and not watched:
                return info(ctx, run_id)
            if (deadline is not None and time.monotonic() > deadline) or (stop and stop()):
                return info(ctx, run_id)
            # a full pass after FULL_INTERVAL, unless a run is seen ending before then
            ended = watch.wait(watched, time.monotonic() + FULL_INTERVAL, stop)
            if ended is None:
                return info(ctx, run_id)
            only = ended or None
    finally:
        watch.close()
