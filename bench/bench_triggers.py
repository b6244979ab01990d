"""Runs started by events (issue #23): how soon a trigger's run starts.

1. Webhook: a live ``jupyter server`` (127.0.0.1); ``POST /ml-ship/api/triggers/{token}`` with
   a parameter, timed until its answer (201: the run is recorded and handed to the local
   backend, its id in the answer); target < 0.5 s. Compared in the same run with the same
   server's authenticated ``POST /jobs/{name}/runs`` (a run started by hand).
2. Files: ``ml-ship agent`` (its default interval) watching ``incoming/*.csv``; a file is
   written and the time until its run is recorded in the store (the run's ``created_at``) is
   taken; target < 2 s.

Prints the medians (and max) over ``--rounds`` and the load average.

Usage: python bench/bench_triggers.py [--rounds 7]
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

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _util import REPO, free_port, load, median, report, until  # noqa: E402

sys.path.insert(0, str(REPO))
from jupyter_ml_ship.config import MlShip  # noqa: E402
from jupyter_ml_ship.core import ShipService  # noqa: E402
from tests.python.conftest import make_notebook  # noqa: E402

TOKEN = "bench-token"


def webhook(top: Path, rounds: int) -> list[tuple[str, str]]:
    home, root = top / "server-home", top / "root"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_SHIP_")}
    env["ML_SHIP_HOME"] = str(home)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={TOKEN}",
         "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}", "--allow-root",
         "--MlShip.trigger_rate_limit=1000", "--MlShip.freeze_environment=False"],
        env=env, stdout=open(top / "server.log", "ab"), stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    auth = {"Authorization": f"token {TOKEN}"}
    try:
        def up() -> bool:
            try:
                return httpx.get(f"{url}api/me", headers=auth, timeout=2).status_code == 200
            except httpx.TransportError:
                return False
        until(up, 90, "the jupyter server")
        svc = ShipService(MlShip(home=str(home), freeze_environment=False))
        nb = make_notebook(root / "hook.ipynb", "print('x =', x)", params="x = 1",
                           metadata={"ml_ship": {"name": "hook", "triggers": {"webhook": True}}})
        token = svc.ship(nb).trigger_token
        hook, by_hand, ids = [], [], []
        with httpx.Client(timeout=60) as client:
            for i in range(rounds + 1):  # the first round warms the server's runner up
                t0 = time.perf_counter()
                r = client.post(f"{url}ml-ship/api/triggers/{token}", json={"x": i})
                t1 = time.perf_counter()
                assert r.status_code == 201, r.text
                ids.append(r.json()["run_id"])
                r2 = client.post(f"{url}ml-ship/api/runs", headers=auth,
                                 json={"job": "hook", "parameters": {"x": i}})
                t2 = time.perf_counter()
                assert r2.status_code == 201, r2.text
                ids.append(r2.json()["id"])
                if i:
                    hook.append(t1 - t0)
                    by_hand.append(t2 - t1)
                for run_id in ids[-2:]:
                    until(lambda rid=run_id: svc.get_run(rid).status in (
                        "succeeded", "failed"), 120, "the run's end")
        return [("webhook POST -> run started (201)",
                 f"{median(hook) * 1000:.0f} ms median, max {max(hook) * 1000:.0f} ms "
                 "(target < 500 ms)"),
                ("authenticated POST /runs (by hand)", f"{median(by_hand) * 1000:.0f} ms median "
                 f"(ratio {median(hook) / median(by_hand):.2f})")]
    finally:
        proc.terminate()
        proc.wait(30)
        from jupyter_ml_ship.runner import _warm

        _warm.stop(MlShip(home=str(home)))


def files(top: Path, rounds: int) -> list[tuple[str, str]]:
    home, work = top / "agent-home", top / "work"
    incoming = work / "incoming"
    incoming.mkdir(parents=True)
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    svc.ship(make_notebook(work / "ingest.ipynb", "print(open(trigger_file).read())",
                           params="trigger_file = ''",
                           metadata={"ml_ship": {"name": "ingest",
                                                 "triggers": {"files": "incoming/*.csv"}}}))
    env = {**os.environ, "ML_SHIP_HOME": str(home)}
    agent = subprocess.Popen([sys.executable, "-m", "jupyter_ml_ship", "agent"], env=env,
                             stdout=open(top / "agent.log", "ab"), stderr=subprocess.STDOUT)
    waits = []
    try:
        until(lambda: svc.agent() is not None, 60, "the agent's lease")
        for i in range(rounds):
            path = incoming / f"f{i}.csv"
            dropped = datetime.now(timezone.utc)
            path.write_text(f"{i}\n")
            want = str(path.resolve())
            run = until(lambda want=want: next((r for r in svc.runs("ingest")[0] if r.parameters
                                                .get("trigger_file") == want), None), 60,
                        "the file's run")
            waits.append((run.created_at - dropped).total_seconds())
            until(lambda rid=run.id: svc.get_run(rid).status in ("succeeded", "failed"), 120,
                  "the run's end")
    finally:
        agent.terminate()
        agent.wait(30)
    return [("file dropped -> run started (agent)",
             f"{median(waits) * 1000:.0f} ms median, max {max(waits) * 1000:.0f} ms "
             "(target < 2000 ms; the agent's interval is 1 s)")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp)
        rows = webhook(top, args.rounds)
        rows += files(top, args.rounds)
    rows.append(("machine", load()))
    print("runs started by events:")
    report(rows)


if __name__ == "__main__":
    main()
