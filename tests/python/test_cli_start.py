"""``ml-ship --help`` and ``ml-ship jobs`` start in a blink (#26): they import neither SQLAlchemy,
pydantic nor nbformat (half a second before any work), and ``jobs`` read straight from the
SQLite store prints the table the service prints."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.cli import _quick, main
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.store import Run
from jupyter_ml_ship.store.schema import Schedule, utcnow

HEAVY = ("sqlalchemy", "pydantic", "nbformat", "traitlets", "alembic")

# the command run by the console script's own code, then the heavy packages it imported
PROBE = f"""
import sys
HEAVY = {HEAVY!r}
from jupyter_ml_ship.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("IMPORTED", sorted({{m.split(".")[0] for m in sys.modules}} & set(HEAVY)), file=sys.stderr)
sys.exit(code)
"""


def probe(args: list[str], env: dict[str, str], code: int = 0) -> tuple[str, str, list[str]]:
    """``ml-ship ARGS``: (stdout, stderr, the heavy packages it imported)."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.splitlines()
    line = next(x for x in lines if x.startswith("IMPORTED"))
    err = "\n".join(x for x in lines if not x.startswith("IMPORTED"))
    return proc.stdout, err, eval(line.split(" ", 1)[1])


def test_help_imports_no_store_models_or_notebooks(cli_env: dict[str, str]) -> None:
    out, _, imported = probe(["--help"], cli_env)
    assert "ship" in out and "jobs" in out
    assert imported == []


@pytest.fixture
def jobs_store(svc: ShipService, nb: Any) -> ShipService:
    """Three jobs: one with runs (the last failed), one with owner groups and a schedule edited
    to a cron that never fires, one never run."""
    svc.ship(nb("alpha.ipynb", "print(1)"))
    svc.ship(nb("alpha.ipynb", "print(2)"))
    svc.ship(nb("beta.ipynb", "print(1)", metadata={"ml_ship": {"owners": ["ops", "data"]}}))
    svc.ship(nb("gamma.ipynb", "print(1)"))
    with svc.store.session() as s:
        from jupyter_ml_ship.store import Job, Version

        job = s.query(Job).filter_by(name="alpha").one()
        v = s.query(Version).filter_by(job_id=job.id, number=2).one()
        t0 = utcnow() - timedelta(hours=1)
        for i, status in enumerate(["succeeded", "failed"]):
            s.add(Run(id=f"run{i:08d}abcdef", job_id=job.id, version_id=v.id, version_number=2,
                      backend="local", status=status, parameters={}, attempts=1,
                      max_attempts=1, created_at=t0, started_at=t0, ended_at=t0,
                      outputs={}, run_dir="x", backend_ref={}))
        s.add(Schedule(kind="job", name="beta", cron="0 0 31 2 *", base=None,
                       timezone="UTC"))
    return svc


def test_jobs_reads_the_store_without_the_service_and_prints_its_table(
        jobs_store: ShipService, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out, _, imported = probe(["jobs"], cli_env)
    assert imported == []
    lines = out.splitlines()
    assert lines[0].split() == ["JOB", "OWNER", "CURRENT", "LATEST", "LAST", "RUN", "STATUS",
                                "UPDATED"]
    alpha = next(x for x in lines if x.startswith("alpha"))
    assert "run00000001abcdef" in alpha and "failed" in alpha and "v2" in alpha
    assert "(ops, data)" in next(x for x in lines if x.startswith("beta"))

    # the same table and the same warning as the service's path (--url, PostgreSQL...)
    monkeypatch.setenv("ML_SHIP_HOME", cli_env["ML_SHIP_HOME"])
    assert main(["jobs"]) == 0
    quick = capsys.readouterr()
    monkeypatch.setattr(_quick, "jobs", lambda: None)
    assert main(["jobs"]) == 0
    slow = capsys.readouterr()
    assert quick.out == slow.out and quick.out.strip()
    assert quick.err == slow.err and "beta v1: metadata.ml_ship.schedule:" in quick.err


def test_jobs_on_a_store_not_yet_migrated_takes_the_service(tmp_path: Path,
                                                            cli_env: dict[str, str]) -> None:
    """No store yet (or an older one): the service creates and migrates it; empty table."""
    out, _, imported = probe(["jobs"], {**cli_env, "ML_SHIP_HOME": str(tmp_path / "new")})
    assert out.split() == ["JOB", "OWNER", "CURRENT", "LATEST", "LAST", "RUN", "STATUS",
                           "UPDATED"]
    assert "sqlalchemy" in imported
    assert (tmp_path / "new" / "ml_ship.db").exists()
