"""A real standalone Spark cluster on 127.0.0.1 from pyspark's own jars: one master and
``workers`` workers (1 core, 1 GB each), each its own process group, stopped by group.

Used by tests/python/test_spark.py (one cluster for the module) and bench/bench_spark.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def spark_home() -> Path | None:
    try:
        import pyspark
    except ImportError:
        return None
    return Path(pyspark.__file__).parent


def usable() -> tuple[bool, str]:
    home = spark_home()
    if home is None:
        return False, "pyspark is not installed (scripts/spark-up.sh)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return False, "no java on PATH (Java 17: scripts/spark-up.sh)"
    return True, ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    master_url: str
    webui: str
    procs: list[subprocess.Popen[Any]] = field(default_factory=list)
    logs: Path | None = None

    def state(self) -> dict[str, Any]:
        """The master's JSON API: workers, activeapps, completedapps."""
        with urllib.request.urlopen(f"{self.webui}/json", timeout=5) as resp:
            return dict(json.load(resp))

    def stop(self) -> None:
        for proc in reversed(self.procs):  # workers first, then the master
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()


def _until(what: str, ok: Any, deadline: float, procs: list[subprocess.Popen[Any]]) -> None:
    while time.monotonic() < deadline:
        try:
            if ok():
                return
        except (OSError, ValueError):  # not answering yet, or its UI up before its JSON API
            pass
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a Spark process ended while waiting for {what}")
        time.sleep(0.2)
    raise TimeoutError(f"Spark: {what} did not happen in time")


def start_cluster(logs: Path, workers: int = 2, timeout: float = 60) -> Cluster:
    home = spark_home()
    assert home is not None
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(logs), "SPARK_WORKER_DIR": str(logs / "work")}
    klass = str(home / "bin" / "spark-class")
    port, ui = _free_port(), _free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui}", logs=logs)

    def spawn(name: str, *argv: str) -> None:
        out = open(logs / f"{name}.log", "wb")
        cluster.procs.append(subprocess.Popen([klass, *argv], env=env, stdout=out,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        out.close()

    deadline = time.monotonic() + timeout
    try:
        spawn("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
              "--port", str(port), "--webui-port", str(ui))
        # the workers' JVMs start alongside the master's (they retry until it answers)
        for i in range(workers):
            spawn(f"worker{i}", "org.apache.spark.deploy.worker.Worker", cluster.master_url,
                  "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                  "--webui-port", str(_free_port()), "--work-dir", str(logs / f"work{i}"))
        _until(f"{workers} workers registered",
               lambda: sum(w.get("state") == "ALIVE" for w in cluster.state()["workers"])
               >= workers, deadline, cluster.procs)
    except BaseException:
        cluster.stop()
        raise
    return cluster
