"""``python -m jupyter_ml_ship.backends.airflow_follow RUN_DIR``: follows one single-job run.

Started detached by ``AirflowBackend.start``: it triggers the DAG run once Airflow has loaded
the new DAG file, then brings the task's log and result into the run directory, so the run goes
on when the CLI that started it exits. Any reconcile does the same work (it is idempotent); this
process only makes sure someone does it. It exits when the run has a result or was cancelled,
or after Airflow was unreachable for ``GIVE_UP`` seconds in a row. (A process entry of its own,
beside ``airflow.py``: ``_airflow/`` holds the pieces that module imports, and imports none of it.)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from ..config import MlShip
from ..errors import ShipError
from ..store.files import read_json
from ._airflow.sync import STATE
from .airflow import SETTINGS_ENV, AirflowBackend

INTERVAL = 1.0
GIVE_UP = 3600.0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m jupyter_ml_ship.backends.airflow_follow RUN_DIR",
              file=sys.stderr)
        return 2
    run_dir = Path(args[0])
    backend = AirflowBackend(MlShip(**json.loads(os.environ.pop(SETTINGS_ENV, "") or "{}")))
    failing_since: float | None = None
    while True:
        state = read_json(run_dir / STATE) or {}
        if (run_dir / "result.json").exists() or state.get("phase") == "cancelled":
            return 0
        try:
            backend.collect(state.get("ref") or {}, run_dir)
            failing_since = None
        except ShipError as exc:
            failing_since = failing_since or time.monotonic()
            print(f"[ml-ship] {exc.message}", flush=True)
            if time.monotonic() - failing_since > GIVE_UP:
                return 1
        time.sleep(INTERVAL)


if __name__ == "__main__":
    sys.exit(main())
