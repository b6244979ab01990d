"""A real, throw-away Apache Airflow 3 on 127.0.0.1 for the tests and the benchmark.

``AirflowHarness`` runs ``airflow api-server``, ``scheduler``, ``dag-processor`` and an
EdgeExecutor worker (``airflow edge worker``, the multi-machine path) from the venv that
``scripts/airflow-up.sh`` installs, with a temporary ``AIRFLOW_HOME``, SQLite, and a
SimpleAuthManager user whose password we choose. Every wait is bounded; ``stop()`` ends every
process it started (its whole process group) and nothing else.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
USERNAME = "ml-ship"
#: processes of the deployment, in start order: (name, airflow arguments)
PROCESSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("api-server", ("api-server",)),
    ("scheduler", ("scheduler",)),
    ("dag-processor", ("dag-processor",)),
    ("edge-worker", ("edge", "worker", "--concurrency", "2")),
)
WORKER = PROCESSES[-1]


def airflow_venv() -> Path:
    state = Path(os.environ.get("ML_SHIP_STATE_DIR") or Path.home() / ".cache" / "ml-ship")
    return Path(os.environ.get("ML_SHIP_AIRFLOW_VENV") or state / "airflow-venv")


def airflow_installed() -> tuple[bool, str]:
    """Whether the Airflow venv is there (``scripts/airflow-up.sh`` makes it)."""
    venv = airflow_venv()
    for tool in ("airflow", "kubernetes-validate"):
        if not (venv / "bin" / tool).exists():
            return False, f"{venv}/bin/{tool} is missing: run scripts/airflow-up.sh"
    return True, ""


def ensure_airflow_venv(timeout: float = 900) -> tuple[bool, str]:
    """Run ``scripts/airflow-up.sh`` (fast when the venv matches the lock)."""
    try:
        proc = subprocess.run(["bash", str(REPO / "scripts" / "airflow-up.sh")],
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"scripts/airflow-up.sh: {exc}"
    if proc.returncode != 0:
        return False, f"scripts/airflow-up.sh failed: {proc.stderr.strip()[-800:]}"
    return airflow_installed()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AirflowHarness:
    """One Airflow deployment under ``root`` (AIRFLOW_HOME, DAGs folder, logs, artifacts)."""

    def __init__(self, root: Path, venv: Path | None = None, port: int | None = None,
                 extra_env: dict[str, str] | None = None):
        self.root = root
        self.extra_env = dict(extra_env or {})
        self.venv = venv or airflow_venv()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.username = USERNAME
        self.password = secrets.token_urlsafe(16)
        self.home = root / "airflow-home"
        self.dags_folder = root / "dags"
        self.logs = root / "process-logs"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._ready = False
        self.secret_key = secrets.token_hex(16)
        self.jwt_secret = secrets.token_hex(32)

    # ---- configuration --------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of every Airflow process (and of ``airflow`` CLI calls)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update({
            "PATH": f"{self.venv / 'bin'}:{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTOR": "airflow.providers.edge3.executors.EdgeExecutor",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.username}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": self.secret_key,
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            # worker tokens live this long (and this much clock slack): on a loaded 2-core
            # machine a heartbeat can sit in a queue for more than the default 30 + 30 s
            "AIRFLOW__API_AUTH__JWT_LEEWAY": "120",
            "AIRFLOW__EDGE__API_ENABLED": "True",
            "AIRFLOW__EDGE__API_URL": f"{self.url}/edge_worker/v1/rpcapi",
            "AIRFLOW__EDGE__JOB_POLL_INTERVAL": "1",
            "AIRFLOW__EDGE__HEARTBEAT_INTERVAL": "5",
            # new DAG files are found within seconds (default: every 5 minutes)
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.root / "task-logs"),
            "AIRFLOW__WEBSERVER__EXPOSE_CONFIG": "False",
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        })
        env.update(self.extra_env)
        return env

    def airflow(self, *args: str, timeout: float = 120,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run an ``airflow`` CLI command in this deployment (bounded)."""
        return subprocess.run([str(self.venv / "bin" / "airflow"), *args], env=env or self.env(),
                              capture_output=True, text=True, timeout=timeout,
                              cwd=str(self.root))

    def prepare(self, timeout: float = 180) -> None:
        """AIRFLOW_HOME with a migrated metadata database and our user's password."""
        for d in (self.home, self.dags_folder, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({self.username: self.password}))
        proc = self.airflow("db", "migrate", timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{proc.stderr[-3000:]}")

    # ---- processes ------------------------------------------------------------------------

    def start(self, timeout: float = 240) -> None:
        """Start every process and wait until the API answers and a worker is registered."""
        self.launch()
        self.ready(timeout)

    def launch(self) -> None:
        """Start the API server, scheduler and dag-processor without waiting for them."""
        if not (self.home / "airflow.db").exists():
            self.prepare()
        for name, args in PROCESSES[:-1]:
            if name not in self.procs:
                self._spawn(name, args)

    def ready(self, timeout: float = 240) -> AirflowHarness:
        """Wait (bounded) until the API answers, then start the edge worker and wait for it.

        The worker starts once the API answers: before that it backs off for up to 90 s.
        Stops everything when the deployment does not come up.
        """
        if self._ready:
            return self
        deadline = time.monotonic() + timeout
        try:
            self._wait(deadline, "the API server", self._api_up)
            if WORKER[0] not in self.procs:
                # the worker keeps its task logs apart, as on another machine: it pushes them
                # to the API server (sharing one folder would store every line twice)
                self._spawn(*WORKER,
                            AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(self.root / "edge-logs"))
            self._wait(deadline, "an edge worker", self._worker_up)
            self._wait(deadline, "the scheduler and dag-processor", self._jobs_up)
        except Exception:
            self.stop()
            raise
        self._ready = True
        return self

    def _spawn(self, name: str, args: tuple[str, ...], **env: str) -> None:
        with open(self.logs / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                [str(self.venv / "bin" / "airflow"), *args], env={**self.env(), **env},
                cwd=str(self.root),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait(self, deadline: float, what: str, check: Any) -> None:
        while time.monotonic() < deadline:
            dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
            if dead:
                raise RuntimeError(f"airflow process(es) exited early {dead}:\n{self.tails()}")
            if check():
                return
            time.sleep(0.5)
        raise TimeoutError(f"Airflow: {what} not ready in time:\n{self.tails()}")

    def _api_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _jobs_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as r:
                health = json.loads(r.read())
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return all((health.get(k) or {}).get("status") == "healthy"
                   for k in ("scheduler", "dag_processor"))

    def _worker_up(self) -> bool:
        try:
            workers = self.get("/edge_worker/ui/worker").get("workers") or []
        except Exception:
            return False
        return any(w.get("state") in ("idle", "running") for w in workers)

    def tails(self, lines: int = 25) -> str:
        out = []
        for f in sorted(self.logs.glob("*.log")):
            text = f.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {f.name}\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self, grace: float = 20) -> None:
        """SIGTERM each process group, SIGKILL what is left after ``grace`` seconds.

        The worker goes first, while the API server can still take its goodbye (without it,
        it retries for minutes).
        """
        order = sorted(self.procs.values(), key=lambda p: p is not self.procs.get(WORKER[0]))
        worker = self.procs.get(WORKER[0])
        if worker is not None and worker.poll() is None:
            _signal_group(worker, signal.SIGTERM)
            try:
                worker.wait(min(grace, 10))
            except subprocess.TimeoutExpired:
                pass
        for proc in order:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in order:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc, signal.SIGKILL)  # children (task runners) of a stopped process
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()
        self._ready = False

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- REST -----------------------------------------------------------------------------

    def token(self) -> str:
        body = json.dumps({"username": self.username, "password": self.password}).encode()
        req = urllib.request.Request(f"{self.url}/auth/token", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return str(json.loads(r.read())["access_token"])

    def get(self, path: str) -> Any:
        req = urllib.request.Request(f"{self.url}{path}",
                                     headers={"Authorization": f"Bearer {self.token()}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
