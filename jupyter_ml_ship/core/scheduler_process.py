"""``python -m jupyter_ml_ship.core.scheduler_process RUN_ID``: a pipeline run's scheduler process.

The process entry of ``core.engine.scheduler``, kept apart from it because it builds the whole
``ShipService`` (which the engine never imports): ``spawn`` starts it detached, or the warm
runner forks ``serve`` from its preloaded image (the module is named in its request). The
settings come as JSON in ``ML_SHIP_SCHEDULER_SETTINGS`` (or over the warm runner's socket).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from ..config import MlShip
from .engine.scheduler import SETTINGS_ENV, drive, lock, run_dir
from .service import ShipService


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m {__spec__.name if __spec__ else __name__} PIPELINE_RUN_ID",
              file=sys.stderr)
        return 2
    # popped: runners, kernels and the warm runner started from here must not inherit it
    return serve(json.loads(os.environ.pop(SETTINGS_ENV, "") or "{}"), args[0])


def serve(values: dict[str, Any], run_id: str) -> int:
    """Be the scheduler of ``run_id`` (a new process, or one forked by the warm runner)."""
    svc = ShipService(MlShip(**values))
    # patience: a probe by scheduler_alive() holds the lock shared for an instant
    with lock(run_dir(svc, run_id) / "scheduler.lock", exclusive=True, patience=2.0) as mine:
        if not mine:
            print(f"pipeline run {run_id}: another scheduler is running", flush=True)
            return 0
        print(f"pipeline run {run_id}: scheduler {os.getpid()} started", flush=True)
        # the run's later steps start from a warm runner, which exits with this scheduler
        # (not after its idle time: no warm runner left behind by a pipeline run)
        svc.prewarm(owned=True)
        info = drive(svc, run_id)
        print(f"pipeline run {run_id}: {info.status}", flush=True)
    svc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
