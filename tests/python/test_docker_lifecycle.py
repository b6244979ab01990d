"""Docker runs over their life: limits, cancel, timeout, re-attach, and an engine that is away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.backends.docker import DockerBackend
from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.errors import BackendUnavailable

from .conftest import EXAMPLES, require
from .test_docker import (  # noqa: F401  (fixtures)
    containers_of,
    docker_settings,
    docker_settings_for,
    dsvc,
    gone,
    job_name,
    log_of,
)
from .waits import until

SLEEPER = "import time\nprint(f'sleeping {seconds}', flush=True)\ntime.sleep(seconds)\n" \
          "print('woke up', flush=True)"


def running(svc: ShipService, run_id: str) -> None:
    """Wait until the run's kernel is executing (image built, container up)."""
    until(lambda: "sleeping" in log_of(svc, run_id), 300, "the notebook to start")
    assert svc.get_run(run_id).status == "running"


def supervisor_pid(svc: ShipService, run_id: str) -> int:
    return int(json.loads((svc.home / "runs" / run_id / "supervisor.json").read_text())["pid"])


def test_memory_limit_exceeded_fails_with_out_of_memory(
        dsvc: ShipService, job_name: str, nb: Any) -> None:
    # the line is printed, then given a second to reach the log before the allocation: what a
    # run wrote before it was killed must be kept (output racing the kill may not be)
    path = nb("hog.ipynb", "print('allocating', flush=True)\nimport time\ntime.sleep(1)\n"
                           "hog = 'x' * (700 * 1024 * 1024)",
              metadata={"ml_ship": {"resources": {"memory": "200m"}}})
    dsvc.ship(path, name=job_name)
    info = dsvc.run(job_name, backend="docker")
    info = dsvc.wait(info.id, timeout=300)
    log = log_of(dsvc, info.id)
    assert info.status == "failed", log
    assert info.error.ename == "OutOfMemory"
    assert "out of memory" in info.error.message and "200 MiB" in info.error.message
    assert "out of memory" in log and "allocating" in log
    gone(dsvc, info.id)


def test_cancel_stops_the_container(dsvc: ShipService, job_name: str, nb: Any) -> None:
    dsvc.ship(nb("sleep.ipynb", SLEEPER, params="seconds = 120"), name=job_name)
    info = dsvc.run(job_name, backend="docker")
    running(dsvc, info.id)
    assert len(containers_of(dsvc, info.id)) == 1
    started = time.monotonic()
    cancelled = dsvc.cancel(info.id)
    assert cancelled.status == "cancelled"
    gone(dsvc, info.id)
    assert time.monotonic() - started < 30
    assert "woke up" not in log_of(dsvc, info.id)
    assert dsvc.get_run(info.id).status == "cancelled"
    # the runner saw the stop and saved the partial output notebook
    until(lambda: (dsvc.home / "runs" / info.id / "output.ipynb").exists(), 30,
               "the output notebook")


def test_cancel_while_building(dsvc: ShipService, job_name: str, nb: Any) -> None:
    unique = f"six; platform_release != 'ml-ship-{os.urandom(4).hex()}'"  # a lock not cached
    path = nb("slowbuild.ipynb", "print('never')", metadata={"ml_ship": {"requirements": [unique]}})
    dsvc.ship(path, name=job_name)
    info = dsvc.run(job_name, backend="docker")
    assert info.status == "building"
    until(lambda: "Step " in log_of(dsvc, info.id), 60, "the build to start")
    assert dsvc.cancel(info.id).status == "cancelled"
    run_dir = dsvc.home / "runs" / info.id
    result = until(lambda: (run_dir / "result.json").exists() and
                        json.loads((run_dir / "result.json").read_text()), 60, "a result")
    assert result["status"] == "cancelled"
    gone(dsvc, info.id)
    assert "never" not in log_of(dsvc, info.id)


def test_timeout_kills_the_run(dsvc: ShipService, job_name: str, nb: Any) -> None:
    path = nb("slow.ipynb", SLEEPER, params="seconds = 120", metadata={"ml_ship": {"timeout": 4}})
    dsvc.ship(path, name=job_name)
    info = dsvc.run(job_name, backend="docker")
    running(dsvc, info.id)
    info = dsvc.wait(info.id, timeout=60)
    assert info.status == "timed_out", log_of(dsvc, info.id)
    assert "timed out after 4 s" in info.error.message
    gone(dsvc, info.id)


def test_reattach_after_new_service_and_killed_supervisor(
        docker_settings: MlShip, dsvc: ShipService, job_name: str, nb: Any) -> None:
    dsvc.ship(nb("sleep.ipynb", SLEEPER + "\nfrom jupyter_ml_ship import record\n"
                 "record('slept', seconds)", params="seconds = 1"), name=job_name)
    info = dsvc.run(job_name, backend="docker", parameters={"seconds": 8})
    running(dsvc, info.id)
    dsvc.close()
    other = ShipService(docker_settings)  # a new CLI process or a restarted server
    try:
        assert other.get_run(info.id).status == "running"
        os.kill(supervisor_pid(other, info.id), signal.SIGKILL)
        time.sleep(0.5)
        assert len(containers_of(other, info.id)) == 1  # the container does not care
        third = ShipService(docker_settings)
        done = third.wait(info.id, timeout=120)
        log = log_of(third, info.id)
        assert done.status == "succeeded", log
        assert done.outputs == {"slept": 8}
        assert log.count("woke up") == 1 and log.count("sleeping 8") == 1
        assert third.output_path(info.id).name == "output.ipynb"
        gone(third, info.id)
        third.close()
    finally:
        other.close()


def test_vanished_container_fails_the_run_with_the_reason(
        docker_settings: MlShip, dsvc: ShipService, job_name: str, nb: Any) -> None:
    dsvc.ship(nb("sleep.ipynb", SLEEPER, params="seconds = 120"), name=job_name)
    info = dsvc.run(job_name, backend="docker")
    running(dsvc, info.id)
    os.kill(supervisor_pid(dsvc, info.id), signal.SIGKILL)
    for c in containers_of(dsvc, info.id):
        c.remove(force=True)
    other = ShipService(docker_settings)
    try:
        done = other.wait(info.id, timeout=60)
        assert done.status == "failed"
        assert "vanished" in done.error.message and f"ml-ship-run-{info.id}" in done.error.message
    finally:
        other.close()


# ---- an engine that is away ----------------------------------------------------------------


def test_docker_down_is_a_clear_error_and_local_still_works(
        home: Path, cli_env: dict[str, str], tmp_path: Path) -> None:
    sock = f"unix://{tmp_path}/no-docker.sock"
    settings = MlShip(home=str(home), freeze_environment=False, docker_host=sock)
    svc = ShipService(settings)
    try:
        with pytest.raises(BackendUnavailable) as exc:
            svc.ship(EXAMPLES / "hello.ipynb", run=True, backend="docker")
        assert f"Docker engine not reachable at {sock}" in exc.value.message
        health = {b.name: b for b in svc.health().backends}
        assert not health["docker"].available and sock in health["docker"].reason
        local = svc.wait(svc.run("hello", backend="local").id, timeout=120)
        assert local.status == "succeeded"
    finally:
        svc.close()
    env = {**cli_env, "DOCKER_HOST": sock}
    cli = [sys.executable, "-m", "jupyter_ml_ship"]
    shipped = subprocess.run([*cli, "ship", str(EXAMPLES / "hello.ipynb"), "--backend", "docker",
                              "--run", "--wait"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert shipped.returncode == 2
    assert f"Docker engine not reachable at {sock}" in shipped.stderr
    assert "Traceback" not in shipped.stderr
    images = subprocess.run([*cli, "images"], env=env, capture_output=True, text=True, timeout=60)
    assert images.returncode == 2 and "Docker engine not reachable" in images.stderr


def test_missing_base_image_is_named(home: Path) -> None:
    settings = docker_settings_for(home, docker_base_image="ml-ship/no-such-base:none")
    client_ok = DockerBackend(docker_settings_for(home)).available()
    require("docker", client_ok[0], client_ok[1])
    ok, why = DockerBackend(settings).available()
    assert not ok
    assert "ml-ship/no-such-base:none is not present locally and cannot be pulled" in why


def test_a_hung_runner_is_killed_at_the_hard_limit(dsvc: ShipService, job_name: str,
                                                   nb: Any) -> None:
    """The runner itself freezes (SIGSTOP), so only the limit outside the container can act."""
    # the pause lets the runner pass the printed line on before it is frozen
    path = nb("freeze.ipynb", "import os, signal, time\nprint('sleeping: freezing the runner', "
              "flush=True)\ntime.sleep(3)\nos.kill(os.getppid(), signal.SIGSTOP)\ntime.sleep(600)",
              metadata={"ml_ship": {"timeout": 2}})
    dsvc.ship(path, name=job_name)
    info = dsvc.run(job_name, backend="docker")
    running(dsvc, info.id)
    started = time.monotonic()
    done = dsvc.wait(info.id, timeout=120)
    assert done.status == "timed_out", log_of(dsvc, info.id)
    assert "timed out after 2 s" in done.error.message
    assert time.monotonic() - started < 60
    gone(dsvc, info.id)
