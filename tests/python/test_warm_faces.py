"""One warm runner per home and environment, whichever face launched the process (``ml-ship``,
``python -m``, ``python3 -m``, ``jupyter server``); started by the server on its first local run
(not at start: an idle lab does not pay for it) and gone with the server when it is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from jupyter_ml_ship.runner import _warm
from jupyter_ml_ship.store import Run

from .conftest import stop_process
from .waits import until

BIN = Path(sys.executable).parent




def gone(pid: int) -> bool:
    from jupyter_ml_ship.runner._proc import start_time

    return start_time(pid) is None


def warm_status(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    p = subprocess.run([*argv, "warm", "status", "--json"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def warm_of(svc: Any, run_id: str) -> bool:
    with svc.store.session() as s:
        row = s.get(Run, run_id)
        return bool((row.backend_ref or {}).get("warm"))


def test_every_face_finds_the_warm_runner_the_server_started_and_it_dies_with_the_server(
        svc, nb, cli_env, tmp_path):
    svc.ship(nb("quick.ipynb", "print('quick')"))
    runtime = tmp_path / "runtime"
    server_env = {**cli_env, "JUPYTER_RUNTIME_DIR": str(runtime)}
    server_env.pop("PYTHONPATH", None)  # unset for the server, empty for the CLI below
    log = tmp_path / "server.log"
    with open(log, "ab") as out:
        server = subprocess.Popen(
            [str(BIN / "jupyter"), "server", "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0",
             "--ServerApp.token=t", "--ServerApp.open_browser=False",
             f"--ServerApp.root_dir={tmp_path / 'work'}", "--allow-root"],
            env=server_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        info = until(lambda: next(runtime.glob(f"jpserver-{server.pid}.json"), None), 60,
                        "the server's runtime file", log)
        port = json.loads(until(info.read_text, 10, "its content"))["port"]

        def api(path: str, body: dict[str, Any] | None = None) -> Any:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/ml-ship/api{path}?token=t",
                data=None if body is None else json.dumps(body).encode(),
                method="GET" if body is None else "POST",
                headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())

        def healthy() -> bool:
            try:
                return bool(api("/health"))
            except OSError:  # the runtime file is written just before the server listens
                return False

        until(healthy, 60, "the server's health", log)
        assert _warm.ping(svc.settings) is None  # an idle lab has no warm runner

        first = api("/runs", {"job": "quick"})  # the first need: cold, and the warm runner starts
        assert svc.wait(first["id"], 120).status == "succeeded"
        assert not warm_of(svc, first["id"])
        pid = _warm.wait_ready(svc.settings, 60)
        assert pid, (svc.home / "warm" / "warm-runner.log").read_text()

        cli = {**cli_env, "PYTHONPATH": ""}
        for face in ([str(BIN / "ml-ship")], [str(BIN / "python3"), "-m", "jupyter_ml_ship"],
                     [str(BIN / "python"), "-m", "jupyter_ml_ship"]):
            assert warm_status(face, cli)["pid"] == pid, face
        p = subprocess.run([str(BIN / "ml-ship"), "run", "quick", "--wait", "--json"], env=cli,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert warm_of(svc, json.loads(p.stdout)["id"])  # forked from the server's warm runner
        assert len(list((svc.home / "warm").glob("*.sock"))) == 1

        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
        until(lambda: gone(pid), 3, "the killed server's warm runner to exit")
        assert not list((svc.home / "warm").glob("*.sock"))
    finally:
        stop_process(server)
