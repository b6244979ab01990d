"""The local backend's side of the warm runner (``runner/_forkserver.py``).

One warm runner per ML Ship home and Python environment, found through a unix socket. Any
process that starts a local run uses it when it answers, whichever face it is (``ml-ship``,
``python -m jupyter_ml_ship``, ``python3 -m …``, the Jupyter server): the socket is keyed on the
resolved interpreter and environment, not on the name it was started by. The long-lived
processes start it: the Jupyter server on its first local run, the agent when it takes the
lease, a pipeline scheduler for its later steps (each as its *owner*: it exits with them, even
when they are killed), ``ml-ship warm start`` (it exits after its idle time). Nothing depends on it: when it is off,
starting, gone, or out of date, a run starts cold, exactly as before.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: unix socket paths are limited to 107 bytes
SOCKET_PATH_MAX = 100
#: settings handed to helper processes (they may hold a password): never in the warm runner's env
SETTINGS_VARIABLES = ("ML_SHIP_SCHEDULER_SETTINGS", "ML_SHIP_AIRFLOW_SETTINGS")
#: largest message of the protocol (a request carries the run's environment)
MAX_MESSAGE = 4 << 20
#: how long a client waits for the warm runner to answer before it starts a run cold
ANSWER_TIMEOUT = 5.0


def _folder(settings: Any) -> Path:
    return settings.home_path / "warm"


def environment_key() -> str:
    """What identifies this Python environment, however it was launched: ``.venv/bin/python``,
    ``.venv/bin/python3`` and a console script's shebang are one interpreter (resolved), and
    the environment is its prefix (a venv's folder), also resolved."""
    return f"{os.path.realpath(sys.executable)}\0{os.path.realpath(sys.prefix)}"


def same_pythonpath(a: str | None, b: str | None) -> bool:
    """Whether two ``PYTHONPATH`` values give the same ``sys.path`` (unset is empty)."""
    return (a or "") == (b or "")


def socket_path(settings: Any) -> Path:
    """Where the warm runner of this home and Python environment listens."""
    home = str(settings.home_path.resolve())
    key = hashlib.sha256(f"{home}\0{environment_key()}".encode()).hexdigest()
    path = _folder(settings) / f"{key[:12]}.sock"
    if len(str(path)) < SOCKET_PATH_MAX:
        return path
    private = Path(tempfile.gettempdir()) / f"ml-ship-{os.getuid()}"  # a long home: a short path
    private.mkdir(mode=0o700, exist_ok=True)
    st = private.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise PermissionError(f"{private} is not a private directory of this user")
    return private / f"{key[:24]}.sock"


def send_message(conn: socket.socket, message: dict[str, Any]) -> None:
    """One message of the warm runner's protocol: a JSON object on one line."""
    conn.sendall(json.dumps(message).encode() + b"\n")


def read_message(conn: socket.socket) -> dict[str, Any]:
    """The JSON object of one line (``{}`` when the other side closed without one)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_MESSAGE:
            raise ValueError("message too large")
    return json.loads(data or b"{}")


def _call(path: Path, request: dict[str, Any], timeout: float = ANSWER_TIMEOUT) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(path))
        send_message(conn, request)
        return read_message(conn)


def ping(settings: Any) -> int | None:
    """The warm runner's pid, or None when none answers."""
    try:
        return _call(socket_path(settings), {"op": "ping"}, timeout=1.0).get("pid")
    except (OSError, ValueError):
        return None


def start_run(settings: Any, run_dir: Path, log_path: Path, env: dict[str, str]) -> int | None:
    """Have the warm runner fork a runner for ``run_dir``; its pid, or None (start it cold)."""
    return _fork(settings, {"op": "run", "run_dir": str(run_dir), "log": str(log_path),
                            "env": env})


def start_scheduler(settings: Any, run_id: str, values: dict[str, Any], log_path: Path,
                    folder: Path, env: dict[str, str], entry: str) -> int | None:
    """Have the warm runner fork a pipeline scheduler (``entry``: the module whose
    ``serve(settings, run_id)`` it runs); its pid, or None (start it cold)."""
    return _fork(settings, {"op": "schedule", "run_id": run_id, "settings": values,
                            "log": str(log_path), "cwd": str(folder), "env": env,
                            "entry": entry})


def _fork(settings: Any, request: dict[str, Any]) -> int | None:
    if not settings.warm_runner:
        return None
    try:
        path = socket_path(settings)
        if not path.exists():
            return None
        answer = _call(path, request)
    except (OSError, ValueError):
        return None
    pid = answer.get("pid")
    return pid if isinstance(pid, int) else None


def ensure(settings: Any, owned: bool = False) -> bool:
    """Start a warm runner in the background unless one is up or starting; whether one was.

    ``owned``: it exits when this process does (killed or not); else after its idle time."""
    if not settings.warm_runner:
        return False
    folder = _folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = socket_path(settings)
    with open(folder / "spawn.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ping(settings) is not None:
            return False
        starting = folder / "starting.json"
        try:
            spawned = json.loads(starting.read_text())
            if time.time() - spawned["at"] < 30 and _start_time(spawned["pid"]) is not None:
                return False  # still importing
        except (OSError, ValueError, KeyError, TypeError):
            pass
        env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
        env["PYTHONUNBUFFERED"] = "1"
        argv = [sys.executable, "-m", "jupyter_ml_ship.runner._forkserver", str(path),
                str(settings.warm_runner_idle)]
        if owned:
            argv.append(str(os.getpid()))
        with open(folder / "warm-runner.log", "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=str(folder), env=env,
            )
        starting.write_text(json.dumps({"pid": proc.pid, "at": time.time(),
                                        "start_time": _start_time(proc.pid)}))
        return True


def wait_ready(settings: Any, timeout: float = 30.0) -> int | None:
    """Wait until the warm runner answers; its pid."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        pid = ping(settings)
        if pid is not None:
            return pid
        time.sleep(0.05)
    return None


def stop(settings: Any) -> bool:
    """Stop the warm runner (runs it started go on), or one still starting; whether one was."""
    try:
        _call(socket_path(settings), {"op": "stop"}, timeout=2.0)
        return True
    except (OSError, ValueError):
        pass
    try:  # still importing: not listening yet
        spawned = json.loads((_folder(settings) / "starting.json").read_text())
        pid, started = int(spawned["pid"]), spawned.get("start_time")
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if started and _start_time(pid) == started:
        try:
            os.kill(pid, signal.SIGTERM)
            return True
        except ProcessLookupError:
            pass
    return False


def _start_time(pid: int) -> str | None:
    from ._proc import start_time as _start_time

    return _start_time(pid)
