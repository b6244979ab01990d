"""The store on a real PostgreSQL server (a throw-away cluster on 127.0.0.1, stopped after)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from tests.python.conftest import make_notebook, require


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return found[-1] if found else (os.path.dirname(shutil.which("initdb") or "") or None)


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    bindir = _pg_bin()
    require("postgres", bool(bindir and os.path.exists(f"{bindir}/initdb")),
            "PostgreSQL server binaries (initdb) not found; run scripts/postgres-up.sh")
    tmp = Path(tempfile.mkdtemp(prefix="ml-ship-pg-"))
    data = tmp / "data"
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_owner([f"{bindir}/initdb", "-D", str(data), "-U", "ship", "-A", "trust"]),
                   check=True, capture_output=True)
    subprocess.run(_as_owner([f"{bindir}/pg_ctl", "-D", str(data), "-l", str(tmp / "log"), "-w",
                              "-o", f"-h 127.0.0.1 -p {port} -k {tmp}", "start"]),
                   check=True, capture_output=True)
    try:
        subprocess.run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "ship",
                        "mlship"], check=True, capture_output=True)
        yield f"postgresql+psycopg://ship@127.0.0.1:{port}/mlship"
    finally:
        subprocess.run(_as_owner([f"{bindir}/pg_ctl", "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def pg_svc(pg_url: str, tmp_path: Path) -> Iterator[ShipService]:
    svc = ShipService(MlShip(home=str(tmp_path / "home"), db_url=pg_url, freeze_environment=False))
    yield svc
    svc.close()


def test_ship_run_and_rollback_on_postgres(pg_svc, tmp_path):
    assert pg_svc.health().store == "postgresql"
    path = make_notebook(tmp_path / "pg-job.ipynb", "print(f'pg says {n}')", params="n = 1")
    assert pg_svc.ship(path).version.number == 1
    make_notebook(path, "print(f'pg v2 {n}')", params="n = 1")
    assert pg_svc.ship(path).version.number == 2
    assert pg_svc.rollback("pg-job", 1).current_version == 1
    info = pg_svc.wait(pg_svc.run("pg-job", parameters={"n": 5}).id, 120)
    assert info.status == "succeeded"
    assert b"pg says 5" in pg_svc.read_log(info.id)[0]
    assert pg_svc.runs(job="pg-job")[0][0].started_at.tzinfo is not None


def test_history_on_postgres(pg_svc, tmp_path):
    from tests.python.test_history import check_failures_and_limit

    check_failures_and_limit(pg_svc, tmp_path)


def test_checks_and_the_upgrade_to_them_on_postgres(pg_url, pg_svc, tmp_path):
    from sqlalchemy import create_engine, text

    from jupyter_ml_ship.core.checks.health import job_health
    from tests.python.test_checks import Ended, check_upgrade_from_0006

    path = make_notebook(tmp_path / "pg-checked.ipynb", "print(1)", metadata={"ml_ship": {
        "checks": {"auc": {"max_drop": 0.05}, "rows": {"min": 10}}}})
    pg_svc.ship(path)
    ended = Ended(pg_svc)
    ended("pg-checked", {"auc": 0.9, "rows": 20})
    worse = pg_svc.get_run(ended("pg-checked", {"auc": 0.8, "rows": 20}))
    assert worse.health == "degraded"
    assert [(c.rule, c.baseline, c.passed) for c in worse.checks if c.name == "auc"] == [
        ("max_drop", 0.9, False)]
    health = job_health(pg_svc, "pg-checked")
    assert health.health == "degraded" and health.counts.degraded == 1
    assert [p.value for p in health.outputs[0].points] == [0.9, 0.8]
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE mlship_upgrade"))
    admin.dispose()
    check_upgrade_from_0006(pg_url.rsplit("/", 1)[0] + "/mlship_upgrade", tmp_path)


def test_concurrent_ships_on_postgres(pg_url, tmp_path):
    paths = [make_notebook(tmp_path / f"c{i}.ipynb", f"print({i})") for i in range(6)]

    def ship(p: Path) -> int:
        svc = ShipService(MlShip(home=str(tmp_path / "home"), db_url=pg_url,
                                 freeze_environment=False))
        try:
            return svc.ship(p, name="pg-race").version.number
        finally:
            svc.close()

    with ThreadPoolExecutor(6) as pool:
        numbers = sorted(pool.map(ship, paths))
    assert numbers == [1, 2, 3, 4, 5, 6]


def test_password_is_hidden_in_messages(tmp_path):
    from jupyter_ml_ship.errors import BackendUnavailable

    start = time.monotonic()
    with pytest.raises(BackendUnavailable) as info:
        ShipService(MlShip(home=str(tmp_path), db_url="postgresql+psycopg://u:s3cret@127.0.0.1:1/x"))
    assert "s3cret" not in info.value.message and "***" in info.value.message
    assert time.monotonic() - start < 30


def test_automatic_roll_back_on_postgres(pg_svc, tmp_path):
    from tests.python.test_promotion import check_no_roll_back_to_a_rolled_back_version

    check_no_roll_back_to_a_rolled_back_version(
        pg_svc, lambda name, *cells, **kw: make_notebook(tmp_path / name, *cells, **kw))


def test_environments_on_postgres(pg_svc, tmp_path):
    """The environment pointers (migration 0009) on PostgreSQL: staging moves alone, a listing
    reads them in one query, a job deleted and shipped again under its name starts with none."""
    for x in (1, 2):
        pg_svc.ship(make_notebook(tmp_path / "pgenv.ipynb", f"print({x})"))
    pg_svc.promote("pgenv", 1, to="staging")
    assert pg_svc.job("pgenv").environments == {"staging": 1, "production": 2}
    listed = {j.name: j.environments for j in pg_svc.jobs()}
    assert listed["pgenv"] == {"staging": 1, "production": 2}
    pg_svc.promote("pgenv", 2, to="staging")
    assert [(v.number, v.environments) for v in pg_svc.versions("pgenv")] == [
        (2, ["staging", "production"]), (1, [])]
    pg_svc.delete_job("pgenv")
    pg_svc.ship(make_notebook(tmp_path / "pgenv.ipynb", "print(3)"))
    assert pg_svc.job("pgenv").environments == {"production": 1}
