"""A full disk under the home (a real 20 MB tmpfs, filled for real): ship, run, the CLI and REST
say "no space left on … (N MB free)" (507 over REST, one line and exit 2 in the CLI), a run
that fills the disk ends ``failed`` with that reason, nothing half-written is left behind, and
everything works again once space is freed.

Mounting needs root (or CAP_SYS_ADMIN): without it these tests skip, unless ``ML_SHIP_REQUIRE``
is set (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.errors import InsufficientStorage
from jupyter_ml_ship.store import Store
from jupyter_ml_ship.store.schema import Event

from .conftest import make_notebook
from .test_server import (  # noqa: F401 - fixtures
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
)

SIZE_MB = 20


def _mount(folder: Path) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs",
                           str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        why = f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}"
        if os.environ.get("ML_SHIP_REQUIRE"):
            pytest.fail(f"{why} (ML_SHIP_REQUIRE is set)")
        pytest.skip(why)
    try:
        yield folder
    finally:
        from jupyter_ml_ship.runner import _warm

        _warm.stop(MlShip(home=str(folder)))
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=True)  # a run's process lingers


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 20 MB tmpfs as the home."""
    yield from _mount(tmp_path / "home")


@pytest.fixture
def ml_home(tmp_path: Path) -> Iterator[Path]:
    """The Jupyter server's home (test_server's fixture), on a 20 MB tmpfs."""
    yield from _mount(tmp_path / "ml_home")


def fill(disk: Path, leave: int = 0) -> Path:
    """Take every free byte of the (small) disk but ``leave``; the file to delete to free it."""
    st = os.statvfs(disk)
    assert st.f_blocks * st.f_frsize <= SIZE_MB << 20, "only ever fill the test's small disk"
    filler = disk / "filler"
    with open(filler, "ab") as fh:
        os.posix_fallocate(fh.fileno(), 0, st.f_bavail * st.f_frsize + fh.tell() - leave)
    assert os.statvfs(disk).f_bavail * st.f_frsize <= leave
    return filler


def debris(home: Path) -> list[str]:
    """What interrupted writes leave: temp files (``.in-…`` blobs, ``.result.json.…``, the
    result's reserve) and empty folders (a blob shard, a run folder, a job folder)."""
    found = []
    for p in home.rglob("*"):
        rel = p.relative_to(home)
        if rel.parts[0] == "warm" or p.name == ".migrate.lock":
            continue
        if p.name.startswith("."):
            found.append(str(rel))
        elif p.is_dir() and not any(p.iterdir()) and str(rel) not in ("blobs", "runs") \
                and p.name != "project":  # a run of a version with no project files
            found.append(f"{rel}/")
    return sorted(found)


def until(event: Callable[[], bool], timeout: float = 120) -> bool:
    """Wait for ``event`` (a file or the disk's state that a run changes)."""
    end = time.monotonic() + timeout
    while not event():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def project(folder: Path, name: str, data_mb: int = 0) -> Path:
    if data_mb:
        (folder / "data.bin").parent.mkdir(parents=True, exist_ok=True)
        (folder / "data.bin").write_bytes(os.urandom(data_mb << 20))
    return make_notebook(folder / f"{name}.ipynb", "print('hello')")


FILL_CELL = ("import os\n"
             "if fill_home:\n"
             "    st = os.statvfs(fill_home)\n"
             "    assert st.f_blocks * st.f_frsize <= 20 << 20  # only the test's tmpfs\n"
             "    with open(os.path.join(fill_home, 'filler'), 'wb') as fh:\n"
             "        os.posix_fallocate(fh.fileno(), 0, st.f_bavail * st.f_frsize)\n"
             "print('filled' if fill_home else 'nothing to fill')")


def fill_job(svc: ShipService, folder: Path, then: str = "print('after')") -> str:
    nb = make_notebook(folder / "fill.ipynb", FILL_CELL, then, params="fill_home = ''")
    return svc.ship(nb).job.name


# ---- ship and run on a full disk -----------------------------------------------------------


def test_ship_and_run_on_a_full_disk_fail_clearly_leave_nothing_and_work_once_freed(
        disk: Path, tmp_path: Path) -> None:
    svc = ShipService(MlShip(home=str(disk), freeze_environment=False))
    try:
        first = svc.ship(project(tmp_path / "a", "first")).version
        filler = fill(disk)

        with pytest.raises(InsufficientStorage) as shipped:
            svc.ship(project(tmp_path / "b", "second", data_mb=2))
        assert f"no space left on {disk} (0 MB free)" in shipped.value.message
        with pytest.raises(InsufficientStorage) as ran:
            svc.run(first.job)
        assert f"no space left on {disk} (0 MB free)" in ran.value.message
        assert [j.name for j in svc.jobs()] == ["first"]  # nothing of "second" recorded
        assert svc.runs()[0] == []
        assert not any((disk / "runs").glob("*"))  # no run folder
        assert not any(p.is_file() for p in (disk / "blobs").rglob("*"))  # no (half) blob
        assert sorted(p.name for p in (disk / "jobs").iterdir()) == ["first"]
        assert debris(disk) == []

        filler.unlink()
        assert svc.ship(project(tmp_path / "b", "second", data_mb=2)).version.number == 1
        run = svc.run(first.job)
        assert svc.wait(run.id, timeout=120).status == "succeeded"
    finally:
        svc.close()


def test_a_run_whose_files_do_not_fit_fails_at_its_start_with_the_reason(
        disk: Path, tmp_path: Path) -> None:
    """Room for the run's folder but not for its copy of the version's project files."""
    svc = ShipService(MlShip(home=str(disk), freeze_environment=False))
    try:
        job = svc.ship(project(tmp_path / "a", "big", data_mb=3)).job.name
        fill(disk, leave=1 << 20)
        with pytest.raises(InsufficientStorage) as started:
            svc.run(job)
        assert f"no space left on {disk}" in started.value.message
        [run], _ = svc.runs()
        assert run.status == "failed" and run.error is not None
        assert run.error.message.startswith(f"local could not start the run: no space left on "
                                            f"{disk}")
        assert not (disk / "runs" / run.id / "project").exists()  # no half copy
        assert debris(disk) == []
    finally:
        svc.close()


# ---- a run that fills the disk -------------------------------------------------------------


def test_a_run_that_fills_the_disk_ends_failed_with_the_reason(disk: Path,
                                                               tmp_path: Path) -> None:
    """The store elsewhere: the status is recorded while the disk is still full."""
    svc = ShipService(MlShip(home=str(disk), db_url=f"sqlite:///{tmp_path}/store.db",
                             freeze_environment=False))
    try:
        job = fill_job(svc, tmp_path / "w")
        run = svc.run(job, parameters={"fill_home": str(disk)})
        info = svc.wait(run.id, timeout=120)
        assert os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize < 1 << 20  # still full
        assert info.status == "failed", info
        assert info.error is not None and info.error.ename == "InsufficientStorage"
        assert info.error.message.startswith(f"no space left on {disk} (0 MB free)")
        run_dir = disk / "runs" / run.id
        assert debris(disk) == []
        # the last whole save of the output notebook is kept; the next cell never ran
        out = json.loads((run_dir / "output.ipynb").read_text())
        assert len(out["cells"]) == 4 and not out["cells"][-1]["outputs"]

        (disk / "filler").unlink()
        again = svc.run(job, parameters={"fill_home": ""})
        assert svc.wait(again.id, timeout=120).status == "succeeded"
    finally:
        svc.close()


def test_with_the_store_on_the_full_disk_the_failure_is_recorded_once_space_is_back(
        disk: Path, tmp_path: Path) -> None:
    svc = ShipService(MlShip(home=str(disk), freeze_environment=False))
    try:
        job = fill_job(svc, tmp_path / "w")
        run = svc.run(job, parameters={"fill_home": str(disk)})
        # the runner writes its result in its reserve's room; reading the status may fail
        # while the store cannot be written (InsufficientStorage), with nothing else
        assert until((disk / "runs" / run.id / "result.json").exists)
        try:
            svc.get_run(run.id)
        except InsufficientStorage as exc:
            assert "no space left on" in exc.message
        (disk / "filler").unlink()
        info = svc.wait(run.id, timeout=60)
        assert info.status == "failed" and info.error is not None
        assert info.error.message.startswith(f"no space left on {disk}")
        assert debris(disk) == []
    finally:
        svc.close()


def test_a_runner_killed_on_a_full_disk_ends_failed_with_the_reason(disk: Path,
                                                                    tmp_path: Path) -> None:
    """No result at all (the runner died while the disk was full): reconcile says why."""
    svc = ShipService(MlShip(home=str(disk), db_url=f"sqlite:///{tmp_path}/store.db",
                             freeze_environment=False))
    try:
        nb = make_notebook(tmp_path / "w" / "fill.ipynb",
                           FILL_CELL + "\nimport time\ntime.sleep(600)", params="fill_home = ''")
        job = svc.ship(nb).job.name
        run = svc.run(job, parameters={"fill_home": str(disk)})
        assert until(lambda: os.statvfs(disk).f_bavail == 0)  # the notebook filled it
        runner = json.loads((disk / "runs" / run.id / "state.json").read_text())["pid"]
        os.killpg(runner, signal.SIGKILL)  # the runner, its kernel and its output pump
        info = svc.wait(run.id, timeout=60)
        assert info.status == "failed" and info.error is not None, info
        assert info.error.ename == "InsufficientStorage"
        assert info.error.message.startswith(f"no space left on {disk} (0 MB free)")
        assert "could not write" in info.error.message
    finally:
        svc.close()


def test_the_store_reports_a_full_disk_as_insufficient_storage(disk: Path) -> None:
    store = Store(f"sqlite:///{disk}/store.db", disk)
    try:
        fill(disk)
        with pytest.raises(InsufficientStorage) as full:
            with store.session() as s:
                s.add(Event(job_name="x", kind="note", actor="t", data={"x": "y" * (4 << 20)}))
        assert full.value.message.startswith(f"no space left on {disk} (0 MB free)")
        assert "store's database" in full.value.message
        (disk / "filler").unlink()
        with store.session() as s:
            s.add(Event(job_name="x", kind="note", actor="t", data={"x": "y" * (4 << 20)}))
    finally:
        store.close()


# ---- the faces: CLI and REST ----------------------------------------------------------------


def test_cli_says_no_space_in_one_line(disk: Path, tmp_path: Path) -> None:
    env = {**os.environ, "ML_SHIP_HOME": str(disk)}
    env.pop("ML_SHIP_DB_URL", None)
    cli = [sys.executable, "-m", "jupyter_ml_ship"]
    svc = ShipService(MlShip(home=str(disk), freeze_environment=False))
    svc.ship(project(tmp_path / "a", "first"))
    svc.close()
    filler = fill(disk)
    for args in (["ship", str(project(tmp_path / "b", "second", data_mb=2))],
                 ["run", "first"]):
        done = subprocess.run([*cli, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 2, done
        assert done.stderr.startswith(f"ml-ship: error: no space left on {disk} (0 MB free)")
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert debris(disk) == [] and not any((disk / "runs").glob("*"))
    filler.unlink()  # working again once freed: see the tests above


async def test_rest_answers_507_with_the_reason(api: Api, jp_root_dir: Path,  # noqa: F811
                                                ml_home: Path) -> None:  # noqa: F811
    make_notebook(jp_root_dir / "first.ipynb", "print('hello')")
    await api("POST", "ship", body={"path": "first.ipynb"}, expect=201)
    project(jp_root_dir / "b", "second", data_mb=2)
    filler = fill(ml_home)
    r = await api("POST", "ship", body={"path": "b/second.ipynb"}, expect=507)
    code, message = error_of(r)
    assert code == "insufficient_storage"
    assert message.startswith(f"no space left on {ml_home} (0 MB free)")
    r = await api("POST", "runs", body={"job": "first"}, expect=507)
    assert error_of(r)[0] == "insufficient_storage"
    assert js(await api("GET", "runs"))["runs"] == []
    filler.unlink()
    await api("POST", "ship", body={"path": "b/second.ipynb"}, expect=201)
