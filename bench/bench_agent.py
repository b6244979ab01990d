"""The agent: how soon after a schedule's tick its run starts, and what an idle agent costs.

1. A job scheduled ``* * * * *``: the agent is started, the next minute comes, the run starts;
   target: started < 1 s after the minute (a few minutes are measured, each with a fresh job).
2. An agent over a store with ``--jobs`` (100) scheduled jobs none of which is due for hours:
   its CPU time over ``--idle`` (30) seconds; target < 1 % of a core. Compared in the same run
   with ``sleep``, the floor of any process that wakes up (its CPU is 0).

Usage: python bench/bench_agent.py [--minutes 2] [--jobs 100] [--idle 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import REPO, median, report  # noqa: E402

sys.path.insert(0, str(REPO))
from jupyter_ml_ship.config import MlShip  # noqa: E402
from jupyter_ml_ship.core import ShipService  # noqa: E402
from tests.python.conftest import make_notebook  # noqa: E402


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def agent(home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ML_SHIP_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "jupyter_ml_ship", "agent"], env=env,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--idle", type=float, default=30)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # 1. tick -> run started
        home = tmp_path / "home"
        svc = ShipService(MlShip(home=str(home), freeze_environment=False))
        proc = agent(home, tmp_path / "agent.log")
        delays = []
        try:
            for i in range(args.minutes):
                name = f"tick{i}"
                svc.ship(make_notebook(tmp_path / name / f"{name}.ipynb", "print('tick')",
                                       metadata={"ml_ship": {"schedule": "* * * * *"}}))
                # the agent sees it first (counts from the latest tick), then fires the next
                deadline = time.time() + 130
                while not svc.runs(job=name)[0] and time.time() < deadline:
                    time.sleep(0.05)
                runs = svc.runs(job=name)[0]
                if not runs:
                    raise SystemExit(f"no run of {name}:\n{(tmp_path / 'agent.log').read_text()}")
                started = runs[-1].started_at or runs[-1].created_at
                minute = started.replace(second=0, microsecond=0)
                delays.append((started - minute).total_seconds())
                print(f"  tick {i + 1}: run started {delays[-1]:.3f} s after {minute:%H:%M}",
                      file=sys.stderr)
                svc.wait(runs[-1].id, 120)
        finally:
            proc.terminate()
            proc.wait(30)
        rows += [("schedule tick -> run started, median (target < 1 s)", f"{median(delays):.3f} s"),
                 ("  worst", f"{max(delays):.3f} s")]

        # 2. idle CPU with many schedules that are not due
        home2 = tmp_path / "home2"
        svc2 = ShipService(MlShip(home=str(home2), freeze_environment=False))
        hour = (datetime.now(timezone.utc).hour + 12) % 24
        for i in range(args.jobs):
            svc2.ship(make_notebook(tmp_path / "many" / f"j{i}" / "job.ipynb", "print(1)",
                                    metadata={"ml_ship": {"schedule": f"{i % 60} {hour} * * *",
                                                          "name": f"j{i}"}}))
        proc = agent(home2, tmp_path / "agent2.log")
        try:
            time.sleep(5)  # started up, lease taken, warm runner spawned
            before, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.idle)
            used, wall = cpu_seconds(proc.pid) - before, time.monotonic() - t0
        finally:
            proc.terminate()
            proc.wait(30)
        rows += [(f"idle agent, {args.jobs} scheduled jobs: CPU over {wall:.0f} s",
                  f"{used:.2f} s"),
                 ("  share of one core (target < 1 %)", f"{100 * used / wall:.2f} %")]
    report(rows)


if __name__ == "__main__":
    main()
