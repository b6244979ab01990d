"""``ml-ship run`` with a Jupyter server up on the same home is handed to that server (#26): the
command imports none of SQLAlchemy, pydantic or the service, the server starts the run warm,
and the command prints the same lines and exits with the same codes as on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import make_notebook
from .test_cli_start import probe
from .test_remote import Server, live_server


def wait_for_announcement(home: Path) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in (home / "servers").glob("*.json"):
            return dict(json.loads(path.read_text()))
        time.sleep(0.05)
    raise AssertionError(f"the server announced itself nowhere in {home}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("via")) as srv:
        yield srv


@pytest.fixture(scope="module")
def env(server: Server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_SHIP_")}
    env.update(ML_SHIP_HOME=str(server.home),
               PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    nb = make_notebook(server.root / "plus.ipynb", "print('answer', n + 1)", params="n = 1")
    subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "ship", str(nb), "--name", "plus"],
                   env=env, check=True, capture_output=True, timeout=120)
    return env


def test_the_server_announces_itself_to_its_owner_only(server: Server) -> None:
    found = wait_for_announcement(server.home)
    assert found["url"] == server.url and found["token"]
    path = next((server.home / "servers").glob("*.json"))
    assert path.stat().st_mode & 0o077 == 0


def test_run_wait_is_handed_to_the_server(server: Server, env: dict[str, str]) -> None:
    wait_for_announcement(server.home)
    out, err, imported = probe(["run", "plus", "--wait", "-p", "n", "41"], env)
    assert "answer 42" in out
    assert "succeeded in" in err and "of plus v1 started on local" in err
    assert imported == []  # the server did the work, warm
    run_id = err.split()[1]
    status = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "status", run_id,
                             "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(status.stdout)["parameters"] == {"n": 41}


def test_a_refusal_from_the_server_is_one_line_and_exit_2(server: Server,
                                                          env: dict[str, str]) -> None:
    wait_for_announcement(server.home)
    out, err, imported = probe(["run", "nosuch", "--wait"], env, code=2)
    assert err.startswith("ml-ship: error:") and "nosuch" in err and "Traceback" not in err
    assert imported == []


def test_a_dead_servers_announcement_is_ignored_and_removed(tmp_path: Path,
                                                            env: dict[str, str]) -> None:
    """A killed server leaves its file: the command starts the run itself, as before."""
    home = tmp_path / "home"
    (home / "servers").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = home / "servers" / f"{dead.pid}.json"
    stale.write_text(json.dumps({"pid": dead.pid, "url": "http://127.0.0.1:9/", "token": "x",
                                 "store": f"sqlite:///{home / 'ml_ship.db'}"}))
    mine = {**env, "ML_SHIP_HOME": str(home), "ML_SHIP_WARM_RUNNER": "0"}
    nb = make_notebook(tmp_path / "one.ipynb", "print('answer', n + 1)", params="n = 1")
    subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "ship", str(nb)], env=mine,
                   check=True, capture_output=True, timeout=120)
    out, err, imported = probe(["run", "one", "--wait", "-p", "n", "1"], mine)
    assert "answer 2" in out and "succeeded in" in err
    assert "sqlalchemy" in imported  # the service, here
    assert not stale.exists()
