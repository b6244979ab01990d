"""Checks on outputs (issue 22): what they cost.

1. check evaluation added to a run's end: ``JobRunsMixin._finish`` of a run of a job with checks
   (min, min+max, max_drop against the median of the last 5 runs, max_rise against the
   previous run, required) against the same end of a run of a job without checks, in one store
   holding 5,000 earlier runs of the checked job, alternated; and the evaluator's own time
   (``Evaluated.seconds``); target < 20 ms.
2. ``GET /jobs/{name}/health`` of that job (5,000 runs) through a real ``jupyter server`` on
   127.0.0.1: the default series (100 runs) and ``limit=5000``, against the same server's
   ``GET /api/status``; and ``job_health`` + JSON in-process; target < 100 ms.

    .venv/bin/python bench/bench_checks.py [--runs 5000] [--ends 40] [--repeat 100]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_server import TOKEN, free_port, start_server, stats, timed  # noqa: E402
from jupyter_ml_ship.config import MlShip  # noqa: E402
from jupyter_ml_ship.core import ShipService  # noqa: E402
from jupyter_ml_ship.core.checks import evaluate_finished  # noqa: E402
from jupyter_ml_ship.core.checks.health import job_health  # noqa: E402
from jupyter_ml_ship.store import Run  # noqa: E402
from jupyter_ml_ship.store.schema import utcnow  # noqa: E402
from tests.python.conftest import make_notebook  # noqa: E402

CHECKS = {"accuracy": {"min": 0.8}, "rows": {"min": 1000, "max": 1e7},
          "auc": {"max_drop": 0.05, "baseline": "last_5"}, "loss": {"max_rise": 0.1},
          "model": {"required": True}}
RECORD = "from jupyter_ml_ship import record\nrecord('accuracy', 0.9)"


def outputs_of(i: int) -> dict[str, object]:
    return {"accuracy": 0.78 + (i % 13) / 100, "rows": 1000 + i, "auc": 0.85 + (i % 7) / 100,
            "loss": 0.3 + (i % 5) / 100, "model": "gbm"}


def checks_of(out: dict[str, object]) -> tuple[str, list[dict[str, object]]]:
    """What the evaluator records for those outputs (bounds only: a plausible series)."""
    acc = float(out["accuracy"])  # type: ignore[arg-type]
    checks = [{"name": "accuracy", "rule": "min", "value": acc, "baseline": None, "bound": 0.8,
               "passed": acc >= 0.8, "message": f"accuracy {acc:g} vs min 0.8"},
              {"name": "rows", "rule": "min", "value": out["rows"], "baseline": None,
               "bound": 1000, "passed": True, "message": "rows ok"},
              {"name": "auc", "rule": "max_drop", "value": out["auc"], "baseline": 0.88,
               "bound": 0.05, "passed": True, "message": "auc ok"},
              {"name": "model", "rule": "required", "value": None, "baseline": None,
               "bound": None, "passed": True, "message": "model recorded"}]
    return ("healthy" if acc >= 0.8 else "degraded"), checks


def seed(home: Path, root: Path, n: int) -> ShipService:
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    svc.ship(make_notebook(root / "train.ipynb", RECORD,
                           metadata={"ml_ship": {"checks": CHECKS}}))
    svc.ship(make_notebook(root / "plain.ipynb", RECORD))
    start = datetime.now(timezone.utc) - timedelta(days=30)
    base_ms = int(start.timestamp() * 1000)
    with svc.store.session() as s:
        v = svc._version(s, "train", None)
        rows = []
        for i in range(n):
            at = start + timedelta(minutes=8 * i)
            rid = f"{base_ms + i * 480_000:011x}{i:06x}"
            out = outputs_of(i)
            failed = i % 17 == 0
            health, checks = checks_of(out)
            rows.append(dict(
                id=rid, job_id=v.job_id, version_id=v.id, version_number=v.number,
                backend="local", status="failed" if failed else "succeeded", parameters={},
                attempts=1, max_attempts=1, timeout=None, created_at=at, started_at=at,
                ended_at=at + timedelta(seconds=30), error={"message": "x"} if failed else None,
                outputs=out, run_dir=str(home / "runs" / rid), backend_ref={},
                pipeline_run_id=None, step=None, health="healthy" if failed else health,
                checks=None if failed else checks))
        s.execute(insert(Run), rows)
    return svc


class Ender:
    """Runs that end through ``_finish`` with a result, as reconciling a backend's does."""

    def __init__(self, svc: ShipService):
        self.svc = svc
        self.ids = itertools.count(int(time.time() * 1000))

    def __call__(self, job: str, i: int) -> float:
        svc = self.svc
        rid = f"{next(self.ids):011x}ffffff"
        with svc.store.session() as s:
            v = svc._version(s, job, None)
            s.add(Run(id=rid, job_id=v.job_id, version_id=v.id, version_number=v.number,
                      backend="local", status="running", parameters={}, attempts=1,
                      max_attempts=1, created_at=utcnow(), started_at=utcnow(), outputs={},
                      run_dir=str(svc.home / "runs" / rid), backend_ref={}))
        t = time.perf_counter()
        svc._finish(rid, "succeeded", None, {"status": "succeeded", "outputs": outputs_of(i),
                                             "attempts": 1})
        return time.perf_counter() - t


def evaluation_only(svc: ShipService, repeat: int) -> list[float]:
    """The evaluator alone on a fresh run's outputs (no write), as _finish calls it."""
    out = []
    with svc.store.session() as s:
        row = s.get(Run, max(svc.runs(job="train", limit=1)[0][0].id for _ in [0]))
        for i in range(repeat):
            ev = evaluate_finished(s, row, "succeeded", outputs_of(i), svc.store, svc.home)
            assert ev is not None and len(ev.checks) == 6, ev
            out.append(ev.seconds)
    return out


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5000)
    ap.add_argument("--ends", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=100)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ml-ship-bench-checks-"))
    home, root = tmp / "home", tmp / "root"
    root.mkdir()
    print(load())
    svc = seed(home, root, args.runs)
    print(f"seeded {args.runs} runs of a job with {len(CHECKS)} checked outputs ({home})")
    end = Ender(svc)
    checked, plain = [], []
    for i in range(args.ends + 3):
        a, b = end("train", i), end("plain", i)
        if i >= 3:  # warm-up
            checked.append(a * 1000)
            plain.append(b * 1000)
    added = statistics.median(checked) - statistics.median(plain)
    own = [x * 1000 for x in evaluation_only(svc, args.repeat)]
    rows = [
        ("run end, job without checks", stats(plain)),
        ("run end, job with 6 checks", stats(checked)),
        ("added by the checks (median difference)",
         f"{added:7.1f} ms  (target < 20 ms: {added / 20:.2f}x the target)"),
        ("the evaluator alone (Evaluated.seconds)",
         f"{stats(own)}  (target < 20 ms: {statistics.median(own) / 20:.2f}x)"),
    ]
    core = []
    for _ in range(10):
        t = time.perf_counter()
        body = job_health(svc, "train", limit=5000).model_dump_json()
        core.append((time.perf_counter() - t) * 1000)
    rows.append(("job_health(limit=5000) + JSON, in-process",
                 f"{stats(core)}  ({len(body) / 1e6:.2f} MB)"))
    svc.close()
    port = free_port()
    server = start_server(home, root, port, tmp / "server.log")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"token {TOKEN}"}) as client:
            baseline = timed(client, "/api/status", args.repeat)
            rows.append(("baseline: jupyter's own GET /api/status", stats(baseline)))
            for params in ({}, {"limit": 5000}):
                ms = timed(client, "/ml-ship/api/jobs/train/health", args.repeat, params)
                med = statistics.median(ms)
                rows.append((f"GET /jobs/train/health{'?limit=5000' if params else ''}",
                             f"{stats(ms)}  (target < 100 ms: {med / 100:.2f}x; "
                             f"{med / statistics.median(baseline):.1f}x baseline)"))
    finally:
        server.terminate()
        try:
            server.wait(15)
        except Exception:
            server.kill()
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k.ljust(width)}  {v}")
    print(load())
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
