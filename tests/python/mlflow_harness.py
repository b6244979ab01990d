"""A real ``mlflow server`` on 127.0.0.1 for the whole test session (one start, ~20 s, shared
by the MLflow tests and the lab's notification test), stopped at the end.

The server comes from its own venv (scripts/mlflow-up.sh; ``ML_SHIP_MLFLOW_VENV``); the
project only needs the client (the ``[mlflow]`` extra). Registered as a plugin in the root
conftest; required in CI through ``ML_SHIP_REQUIRE=mlflow``.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

from .conftest import require, stop_process
from .notify_harness import free_port, until

VENV = Path(os.environ.get("ML_SHIP_MLFLOW_VENV")
            or Path(os.environ.get("ML_SHIP_STATE_DIR") or Path.home() / ".cache" / "ml-ship")
            / "mlflow-venv")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    exe = VENV / "bin" / "mlflow"
    require("mlflow", exe.exists(), f"no {exe} (run scripts/mlflow-up.sh)")
    try:
        import mlflow  # noqa: F401 - the client, [mlflow] extra
    except ImportError:
        require("mlflow", False, "the MLflow client is not installed (pip install .[mlflow])")
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(
        [str(exe), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts")],
        # MLFLOW_SERVER_ENABLE_JOB_EXECUTION: no background job runner (eight huey consumer
        # processes the tests never use, started before the server answers)
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PATH": f"{VENV}/bin:"
                                                   f"{os.environ['PATH']}",
                                                   "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        start_new_session=True)
    uri = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(uri + "/health", timeout=1) as r:
                return r.status == 200
        except OSError:
            return proc.poll() is not None  # died: stop waiting, fail below

    # the server migrates its database before it answers: on 2 busy cores (the browser suite
    # runs beside the Python suite) that took over 120 s once
    try:
        until(healthy, timeout=300, every=0.3)
    except BaseException:
        stop_process(proc)  # never leave a half-started server behind
        raise
    if proc.poll() is not None:
        pytest.fail("mlflow server exited:\n" + (root / "server.log").read_text()[-3000:])
    yield uri
    stop_process(proc)
    log.close()
