"""Benchmark of the server extension through a real ``jupyter server`` on 127.0.0.1.

    .venv/bin/python bench/bench_server.py [--runs 10000] [--concurrent 100] [--repeat 300]

1. 10,000 runs bulk-inserted into a fresh store, then median / p95 latency of
   ``GET /runs?limit=50`` (first page, a later page by cursor, filtered) and ``GET /runs/{id}``,
   against the same server's cheapest authenticated call (``GET /api/status``) as a baseline.
2. ``POST /ship`` with ``run: true`` → the run's first log line (the runner's) and the notebook's
   first printed line, polled through ``GET /runs/{id}/logs``.
3. N concurrent ``POST /runs``: every 201 recorded once in the store, no duplicate ids, then all
   cancelled (these are real local runs: expect the machine to be busy for a while).

Everything lives in a temporary directory; the server and the runs it started are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.runner._proc import start_time as _start_time
from jupyter_ml_ship.store import Job, Run, Version

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(home: Path, root: Path, n: int) -> list[str]:
    """Ship hello.ipynb and insert ``n`` finished runs of it in one bulk insert."""
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    svc.ship(root / "hello.ipynb")
    with svc.store.session() as s:
        job = s.scalars(select(Job)).one()
        version = s.scalars(select(Version)).one()
        start = datetime.now(timezone.utc) - timedelta(days=30)
        base_ms = int(start.timestamp() * 1000)
        rows = []
        for i in range(n):
            created = start + timedelta(seconds=i * 60)
            rid = f"{base_ms + i * 60_000:011x}{i:06x}"
            rows.append(dict(
                id=rid, job_id=job.id, version_id=version.id, version_number=1, backend="local",
                status="succeeded" if i % 10 else "failed", parameters={"name": f"n{i}"},
                attempts=1, max_attempts=1, timeout=None, created_at=created,
                started_at=created + timedelta(seconds=1), ended_at=created + timedelta(seconds=3),
                error=None if i % 10 else {"message": "cell 1 raised ValueError: x",
                                           "ename": "ValueError", "evalue": "x", "cell_index": 1},
                outputs={"greeted": f"n{i}"}, run_dir=str(home / "runs" / rid), backend_ref={},
                pipeline_run_id=None, step=None,
            ))
        s.execute(insert(Run), rows)
    svc.close()
    return [r["id"] for r in rows]


def start_server(home: Path, root: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [str(Path(sys.executable).with_name("jupyter")), "server", "--allow-root",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}",
           "--ServerApp.open_browser=False", f"--MlShip.home={home}",
           "--MlShip.freeze_environment=False", "--ServerApp.log_level=WARN"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_SHIP_")}
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=1,
                         headers={"Authorization": f"token {TOKEN}"}).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"jupyter server did not start; see {log}")


def timed(client: httpx.Client, path: Any, repeat: int, params: Any = None) -> list[float]:
    """Latencies in ms of ``repeat`` GETs after 10 warm-up ones; ``path`` may be a function."""
    out = []
    for i in range(repeat + 10):
        t0 = time.perf_counter()
        r = client.get(path(i) if callable(path) else path, params=params)
        dt = time.perf_counter() - t0
        assert r.status_code == 200, r.text
        if i >= 10:  # warm-up
            out.append(dt * 1000)
    return out


def stats(ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[18] if len(ms) > 1 else ms[0]
    return f"{statistics.median(ms):7.1f} ms median  {p95:7.1f} ms p95  (n={len(ms)})"


def first_log_lines(client: httpx.Client, root: Path, repeat: int) -> tuple[list, list, list]:
    ship_ms, runner_ms, notebook_ms = [], [], []
    for i in range(repeat):
        nb = json.loads((root / "hello.ipynb").read_text())
        for cell in nb["cells"]:
            if "parameters" in cell["metadata"].get("tags", []):
                cell["source"] = f'name = "bench {i}"\ntimes = 1'
        (root / f"first{i}.ipynb").write_text(json.dumps(nb))
        t0 = time.perf_counter()
        r = client.post("/ship", json={"path": f"first{i}.ipynb", "name": f"first{i}",
                                       "run": True})
        assert r.status_code == 201, r.text
        ship_ms.append((time.perf_counter() - t0) * 1000)
        run_id, seen = r.json()["run"]["id"], None
        while time.perf_counter() - t0 < 120:
            text = client.get(f"/runs/{run_id}/logs", params={"offset": 0}).text
            if seen is None and "\n" in text:
                seen = time.perf_counter()
                runner_ms.append((seen - t0) * 1000)
            if "hello, bench" in text:
                notebook_ms.append((time.perf_counter() - t0) * 1000)
                break
            time.sleep(0.005)
        while client.get(f"/runs/{run_id}").json()["status"] in ("queued", "building", "running"):
            time.sleep(0.1)
    return ship_ms, runner_ms, notebook_ms


async def concurrent_posts(base: str, n: int) -> tuple[list[str], float, list[float]]:
    headers = {"Authorization": f"token {TOKEN}"}
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300,
                                 limits=limits) as client:
        async def one(i: int) -> tuple[str, float]:
            t0 = time.perf_counter()
            r = await client.post("/runs", json={"job": "hello",
                                                 "parameters": {"name": f"c{i}"}})
            assert r.status_code == 201, r.text
            return r.json()["id"], (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
    return [rid for rid, _ in results], wall, [ms for _, ms in results]


def stop_runs(client: httpx.Client, home: Path, run_ids: list[str]) -> None:
    """Cancel the benchmark's runs; kill the process group of any that does not stop."""
    for rid in run_ids:
        client.post(f"/runs/{rid}/cancel")
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and svc.active_run_ids():
        time.sleep(0.5)
    still = set(svc.active_run_ids()) & set(run_ids)
    with svc.store.session() as s:
        refs = [r.backend_ref for r in s.scalars(select(Run).where(Run.id.in_(still)))]
    for ref in refs:  # only our runner, recognised by its start time, never a reused pid
        pid = int(ref.get("pid") or 0)
        if pid and _start_time(pid) == ref.get("start_time"):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    svc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--concurrent", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=300)
    ap.add_argument("--first-line-repeat", type=int, default=5)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ml-ship-bench-"))
    home, root = tmp / "home", tmp / "root"
    root.mkdir()
    shutil.copy(REPO / "examples" / "hello.ipynb", root / "hello.ipynb")
    t0 = time.perf_counter()
    ids = seed(home, root, args.runs)
    print(f"seeded {len(ids)} runs in {time.perf_counter() - t0:.1f} s ({home})")
    port = free_port()
    server = start_server(home, root, port, tmp / "server.log")
    base = f"http://127.0.0.1:{port}/ml-ship/api"
    rows: list[tuple[str, str]] = []
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"token {TOKEN}"},
                          timeout=120) as client:
            first = client.get("/runs", params={"limit": 50}).json()
            assert len(first["runs"]) == 50 and first["next_cursor"]
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                              headers={"Authorization": f"token {TOKEN}"}) as plain:
                baseline = timed(plain, "/api/status", args.repeat)
            rows.append(("baseline: jupyter's own GET /api/status", stats(baseline)))
            page = timed(client, "/runs", args.repeat, {"limit": 50})
            ratio = statistics.median(page) / statistics.median(baseline)
            rows.append(("GET /runs?limit=50", f"{stats(page)}  {ratio:.1f}x baseline"))
            rows.append(("GET /runs?limit=50&cursor=(middle)", stats(timed(
                client, "/runs", args.repeat, {"limit": 50, "cursor": ids[len(ids) // 2]}))))
            rows.append(("GET /runs?job=hello&status=failed&limit=50", stats(timed(
                client, "/runs", args.repeat, {"job": "hello", "status": "failed",
                                               "limit": 50}))))
            rng = random.Random(1)
            rows.append(("GET /runs/{id} (random ids)", stats(timed(
                client, lambda _: "/runs/" + rng.choice(ids), args.repeat))))

            ship, runner, notebook = first_log_lines(client, root, args.first_line_repeat)
            rows.append(("POST /ship run=true: response", stats(ship)))
            rows.append(("  → runner's first log line", stats(runner)))
            rows.append(("  → notebook's first printed line", stats(notebook)))

            if args.concurrent <= 0:
                return
            run_ids, wall, post_ms = asyncio.run(concurrent_posts(base, args.concurrent))
            recorded = [r["id"] for r in client.get("/runs", params={
                "job": "hello", "limit": 1000}).json()["runs"] if r["id"] in set(run_ids)]
            rows.append((f"{args.concurrent} concurrent POST /runs",
                         f"{wall:7.2f} s wall, per request {stats(post_ms)}"))
            rows.append(("  recorded / distinct ids",
                         f"{len(recorded)} / {len(set(run_ids))} of {args.concurrent}"))
            ok = len(recorded) == len(set(run_ids)) == args.concurrent == len(run_ids)
            rows.append(("  none lost, none duplicated", "yes" if ok else "NO"))
            stop_runs(client, home, run_ids)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        width = max((len(k) for k, _ in rows), default=0)
        print(f"\njupyter server on 127.0.0.1, {args.runs} runs in the store "
              f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})\n")
        for k, v in rows:
            print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
