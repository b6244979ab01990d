"""Team mode on JupyterHub: one workspace of 20 users' servers on PostgreSQL, 10,000 runs.

    .venv/bin/python bench/bench_team.py [--users 20] [--runs 10000] [--submissions 200]

1. **Panel listing.** 20 users ship two jobs each (one ``run_by: team``) into one store; 10,000
   finished runs of those jobs (started by the users) are bulk-inserted. A real
   ``jupyter server`` in team mode on that store answers what the panel asks: ``GET /jobs`` and
   a job's runs page (``GET /runs?job=J&limit=50``), median / p95 over ``--repeat`` requests
   each (target: ``GET /jobs`` < 50 ms median). Compared with the plain alternative: the same
   data on single-user SQLite, served by a plain (not team mode) server, in the same run.
2. **Concurrent submissions.** 20 threads, each one user's service (its own connection pool, as
   a user's server has) in team mode, submit 200 runs at once (10 each: 5 of their own job,
   5 of another user's ``run_by: team`` job); they are recorded ``queued`` and a real
   ``ml-ship agent`` process starts them on the local backend (a trivial notebook). Time until
   all are recorded, until all have started, and how many were lost (must be 0). Compared with
   the same 200 submissions without team mode, where each submitting service starts its run
   itself.

PostgreSQL is a throw-away cluster on 127.0.0.1 (``scripts/postgres-up.sh`` installs the
server binaries); only if it cannot be started does the benchmark run on SQLite, and says so.
Everything lives in a temporary directory; servers, the agent and the cluster are stopped.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).parent))
from _util import REPO, free_port, report  # noqa: E402

sys.path.insert(0, str(REPO))
from jupyter_ml_ship.config import MlShip  # noqa: E402
from jupyter_ml_ship.core import ShipService  # noqa: E402
from jupyter_ml_ship.core.access import Actor  # noqa: E402
from jupyter_ml_ship.store import Job, Run, Version  # noqa: E402
from tests.python.conftest import make_notebook  # noqa: E402

TOKEN = "bench-team-token"
ACTIVE = ("queued", "building", "running")


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return found[-1] if found else (os.path.dirname(shutil.which("initdb") or "") or None)


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres(tmp: Path) -> Iterator[str | None]:
    """A throw-away PostgreSQL cluster's URL (None: none could be started)."""
    bindir = _pg_bin()
    if not (bindir and os.path.exists(f"{bindir}/initdb")):
        subprocess.run([str(REPO / "scripts" / "postgres-up.sh")], capture_output=True)
        bindir = _pg_bin()
    if not (bindir and os.path.exists(f"{bindir}/initdb")):
        yield None
        return
    pg = Path(tempfile.mkdtemp(prefix="ml-ship-bench-pg-"))  # the postgres user reaches it
    if os.geteuid() == 0:
        shutil.chown(pg, "postgres")
    port = free_port()
    try:
        subprocess.run(_as_owner([f"{bindir}/initdb", "-D", str(pg / "data"), "-U", "ship",
                                  "-A", "trust"]), check=True, capture_output=True)
        subprocess.run(_as_owner([f"{bindir}/pg_ctl", "-D", str(pg / "data"), "-l",
                                  str(pg / "log"), "-w", "-o",
                                  f"-h 127.0.0.1 -p {port} -k {pg} -c max_connections=400",
                                  "start"]), check=True, capture_output=True)
        subprocess.run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "ship",
                        "mlship"], check=True, capture_output=True)
        url: str | None = f"postgresql+psycopg://ship@127.0.0.1:{port}/mlship"
    except subprocess.CalledProcessError as exc:
        print(f"  (PostgreSQL did not start: {exc.stderr.decode()[-300:]})", file=sys.stderr)
        url = None
    try:
        yield url
    finally:
        subprocess.run(_as_owner([f"{bindir}/pg_ctl", "-D", str(pg / "data"), "-m", "fast",
                                  "stop"]), capture_output=True)
        shutil.rmtree(pg, ignore_errors=True)


def users(n: int) -> list[Actor]:
    return [Actor.of(f"user{i:02d}", [f"team{i % 4}"]) for i in range(n)]


def seed(settings: MlShip, work: Path, people: list[Actor], runs: int) -> list[str]:
    """Each user ships ``<user>-own`` and ``<user>-team`` (run_by: team); ``runs`` finished
    runs of them are bulk-inserted. The job names."""
    svc = ShipService(settings)
    for who in people:
        for kind in ("own", "team"):
            meta = {"ml_ship": {"name": f"{who.name}-{kind}",
                                **({"run_by": "team"} if kind == "team" else {})}}
            path = make_notebook(work / who.name / f"{kind}.ipynb", f"print('{who.name}')",
                                 metadata=meta)
            svc.ship(path, actor=who)
    with svc.store.session() as s:
        jobs = [(j.id, j.name) for j in s.scalars(select(Job).order_by(Job.name))]
        version_of = dict(s.execute(select(Version.job_id, Version.id)).all())
        start = datetime.now(timezone.utc) - timedelta(days=30)
        base_ms = int(start.timestamp() * 1000)
        rows = []
        for i in range(runs):
            job_id, _ = jobs[i % len(jobs)]
            created = start + timedelta(seconds=i * 60)
            rid = f"{base_ms + i * 60_000:011x}{i:06x}"
            rows.append(dict(
                id=rid, job_id=job_id, version_id=version_of[job_id], version_number=1,
                backend="local", status="succeeded" if i % 10 else "failed", parameters={},
                attempts=1, max_attempts=1, timeout=None, created_at=created,
                started_at=created + timedelta(seconds=1), ended_at=created + timedelta(seconds=3),
                error=None if i % 10 else {"message": "cell 1 raised ValueError: x",
                                           "ename": "ValueError", "evalue": "x", "cell_index": 1},
                outputs={}, run_dir=str(settings.home_path / "runs" / rid), backend_ref={},
                pipeline_run_id=None, step=None, started_by=people[i % len(people)].name,
            ))
        s.execute(insert(Run), rows)
    svc.close()
    return [name for _, name in jobs]


def ml_ship_env(settings: MlShip, team: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ML_SHIP_", "JUPYTERHUB_"))}
    env.update(ML_SHIP_HOME=str(settings.home_path), ML_SHIP_DB_URL=settings.db_url,
               ML_SHIP_TEAM_MODE="1" if team else "0", ML_SHIP_AUTHOR="bench")
    return env


def start_server(settings: MlShip, root: Path, team: bool, log: Path
                 ) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    cmd = [str(Path(sys.executable).with_name("jupyter")), "server", "--allow-root",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}",
           "--ServerApp.open_browser=False", "--MlShip.freeze_environment=False",
           "--ServerApp.log_level=WARN"]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env=ml_ship_env(settings, team), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ml-ship/api/health", timeout=2,
                         headers={"Authorization": f"token {TOKEN}"}).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"jupyter server did not start; see {log}:\n{log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def latencies(client: httpx.Client, path: str, repeat: int, **params: Any) -> list[float]:
    out = []
    for i in range(repeat + 5):
        t0 = time.perf_counter()
        r = client.get(path, params=params or None)
        dt = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, r.text
        if i >= 5:  # warm-up
            out.append(dt)
    return out


def stats(ms: list[float]) -> tuple[float, float]:
    return statistics.median(ms), statistics.quantiles(ms, n=20)[18]


def listing(settings: MlShip, root: Path, team: bool, job: str, n_jobs: int, repeat: int,
            log: Path) -> dict[str, tuple[float, float]]:
    proc, port = start_server(settings, root, team, log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/ml-ship/api", timeout=60,
                          headers={"Authorization": f"token {TOKEN}"}) as client:
            jobs = client.get("/jobs").json()["jobs"]
            assert len(jobs) == n_jobs, len(jobs)
            page = client.get("/runs", params={"job": job, "limit": 50}).json()
            assert len(page["runs"]) == 50 and page["next_cursor"], page
            return {"jobs": stats(latencies(client, "/jobs", repeat)),
                    "runs": stats(latencies(client, "/runs", repeat, job=job, limit=50))}
    finally:
        stop(proc)


def submit_all(settings: MlShip, people: list[Actor], per_user: int
               ) -> tuple[list[str], list[str], float]:
    """Every user's service submits ``per_user`` runs at once (threads). Ids, errors, wall s."""
    services = [ShipService(settings, actor=who) for who in people]
    ids: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(people) + 1)

    def one_user(i: int) -> None:
        svc, who = services[i], people[i]
        other = people[(i + 1) % len(people)].name
        barrier.wait()
        for k in range(per_user):
            job = f"{who.name}-own" if k % 2 == 0 else f"{other}-team"
            try:
                run_id = svc.run(job).id
                with lock:
                    ids.append(run_id)
            except Exception as exc:  # counted: a refused or failed submission is lost
                with lock:
                    errors.append(f"{who.name} {job}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=one_user, args=(i,)) for i in range(len(people))]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for svc in services:
        svc.close()
    return ids, errors, wall


def follow(settings: MlShip, ids: list[str], t_submit: float, timeout: float,
           reconcile: bool) -> dict[str, Any]:
    """Poll the store: when every run had started, when all ended, and how they ended.
    ``reconcile``: no agent follows the runs, so this process brings them up to date (as the
    plain server's own tick would)."""
    svc = ShipService(settings)
    started_at = ended_at = None
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        if reconcile:
            svc.reconcile_active()
        with svc.store.session() as s:
            counts = dict(s.execute(select(Run.status, func.count()).where(Run.id.in_(ids))
                                    .group_by(Run.status)).all())
        now = time.perf_counter()
        if started_at is None and not counts.get("queued"):
            started_at = now - t_submit
        if not any(counts.get(st) for st in ACTIVE):
            ended_at = now - t_submit
            break
        time.sleep(0.1)
    svc.close()
    return {"started": started_at, "ended": ended_at, "counts": counts,
            "in_store": sum(counts.values())}


def submissions(settings: MlShip, people: list[Actor], per_user: int, team: bool,
                tmp: Path, timeout: float) -> dict[str, Any]:
    agent = None
    if team:
        log = tmp / "agent.log"
        agent = subprocess.Popen([sys.executable, "-m", "jupyter_ml_ship", "agent"],
                                 env=ml_ship_env(settings, True), stdout=log.open("ab"),
                                 stderr=subprocess.STDOUT)
        probe = ShipService(settings)
        deadline = time.monotonic() + 60
        while probe.agent() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        probe.close()
        if agent.poll() is not None:
            raise SystemExit(f"ml-ship agent exited:\n{log.read_text()[-2000:]}")
        time.sleep(2)  # its warm runner is up, as it is in a workspace that is in use
    try:
        t0 = time.perf_counter()
        ids, errors, recorded = submit_all(settings, people, per_user)
        outcome = follow(settings, ids, t0, timeout, reconcile=not team)
    finally:
        if agent is not None:
            stop(agent)
    outcome.update(ids=ids, errors=errors, recorded=recorded)
    return outcome


def fmt(x: float | None, unit: str = "s") -> str:
    return "not reached" if x is None else f"{x:.2f} {unit}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--submissions", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=100, help="requests per listing measured")
    ap.add_argument("--timeout", type=float, default=900, help="seconds for the runs to end")
    args = ap.parse_args()
    people = users(args.users)
    per_user = max(1, args.submissions // args.users)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="ml-ship-bench-team-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "root"
        root.mkdir()
        with postgres(tmp) as pg_url:
            if pg_url is None:
                print("NOTE: PostgreSQL could not be started; team mode measured on SQLite, "
                      "which a real workspace would not use", file=sys.stderr)
            store = "PostgreSQL" if pg_url else "SQLite"
            team = MlShip(home=str(tmp / "team-home"), freeze_environment=False, team_mode=True,
                          **({"db_url": pg_url} if pg_url else {}))
            plain = MlShip(home=str(tmp / "plain-home"), freeze_environment=False)
            t0 = time.perf_counter()
            jobs = seed(team, root / "team", people, args.runs)
            seed(plain, root / "plain", people, args.runs)
            print(f"  seeded {len(jobs)} jobs of {len(people)} users and {args.runs} runs twice "
                  f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

            job = jobs[len(jobs) // 2]
            t_list = listing(team, root, True, job, len(jobs), args.repeat,
                             tmp / "team-server.log")
            p_list = listing(plain, root, False, job, len(jobs), args.repeat,
                             tmp / "plain-server.log")
            for key, what in (("jobs", f"GET /jobs ({len(jobs)} jobs)"),
                              ("runs", "GET /runs?job=J&limit=50 (a job's runs page)")):
                (tm, tp), (pm, pp) = t_list[key], p_list[key]
                rows += [(f"{what}, team mode on {store}",
                          f"{tm:6.1f} ms median {tp:6.1f} ms p95 (n={args.repeat})"),
                         ("  single-user SQLite, plain server",
                          f"{pm:6.1f} ms median {pp:6.1f} ms p95"),
                         ("  ratio team / plain (median)", f"{tm / pm:.2f}")]
            rows.append(("GET /jobs target < 50 ms median",
                         "met" if t_list["jobs"][0] < 50 else "NOT met"))

            n = per_user * len(people)
            print(f"  {n} concurrent submissions, team mode (the agent starts them)",
                  file=sys.stderr)
            t_sub = submissions(team, people, per_user, True, tmp, args.timeout)
            print(f"  {n} concurrent submissions, no team mode", file=sys.stderr)
            direct = MlShip(home=str(tmp / "team-home"), freeze_environment=False,
                            team_mode=False, **({"db_url": pg_url} if pg_url else {}))
            p_sub = submissions(direct, people, per_user, False, tmp, args.timeout)
        for label, sub in ((f"team mode on {store}, started by ml-ship agent", t_sub),
                           (f"no team mode ({store}), each server starts its runs", p_sub)):
            lost = n - sub["in_store"] + sub["counts"].get("queued", 0)
            rows += [(f"{n} submissions by {len(people)} users: {label}", ""),
                     ("  all recorded (submit calls returned)", fmt(sub["recorded"])),
                     ("  all started", fmt(sub["started"])),
                     ("  all ended", fmt(sub["ended"])),
                     ("  recorded / refused or failed to submit",
                      f"{len(sub['ids'])} / {len(sub['errors'])}"),
                     ("  lost (not in the store, or never started)", str(lost)),
                     ("  outcome", ", ".join(f"{k} {v}" for k, v in sorted(sub["counts"].items())))]
            for e in sub["errors"][:5]:
                rows.append(("  error", e))
        if t_sub["started"] and p_sub["started"]:
            rows.append(("time to all started, ratio team / no team",
                         f"{t_sub['started'] / p_sub['started']:.2f}"))
        if t_sub["recorded"] and p_sub["recorded"]:
            rows.append(("time to all recorded, ratio team / no team",
                         f"{t_sub['recorded'] / p_sub['recorded']:.2f}"))
        from jupyter_ml_ship.runner import _warm

        for s in (team, plain):
            _warm.stop(s)
        if os.environ.get("ML_SHIP_BENCH_KEEP"):
            shutil.copytree(tmp, os.environ["ML_SHIP_BENCH_KEEP"], dirs_exist_ok=True)
    report(rows)


if __name__ == "__main__":
    main()
