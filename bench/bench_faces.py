"""Issue #26 "Fast from every face, light when idle": each figure against its plain baseline,
measured in the same run, with the machine's load (1-minute average) printed beside it.

1. ``ml-ship run JOB --wait`` of a trivial notebook with a Jupyter server up (its warm runner
   started by its first run, found by the ``ml-ship`` script) vs the ``papermill`` CLI;
   target <= 0.15 x.
2. ``ml-ship --help`` and ``ml-ship jobs`` wall time over ``python -c pass``; target <= 0.25 s.
3. an idle ``jupyter server`` (the lab's first calls made: health, jobs) with the extension vs
   without it: peak RSS (VmHWM) of the server and every process under it; target <= +50 MiB.
4. ``ml-ship agent`` idle over ``--jobs`` (100) scheduled jobs none of which is due: its share
   of a core; target <= 0.3 %.

The other figures of the issue (first ship of 300 MB, the runs table of 5,000 runs, pipeline
scheduling per step) are bench_project.py, bench_history.py and bench_pipeline.py.

    .venv/bin/python bench/bench_faces.py [--rounds 7] [--jobs 100] [--idle 20]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _util import BIN, REPO, env_with, median, report, rotating, timed  # noqa: E402

sys.path.insert(0, str(REPO))
from jupyter_ml_ship.config import MlShip  # noqa: E402
from jupyter_ml_ship.core import ShipService  # noqa: E402
from jupyter_ml_ship.runner import _warm  # noqa: E402
from tests.python.conftest import make_notebook  # noqa: E402


def bytecode_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of the timed commands: bytecode cached as in any installed package (a
    shell with PYTHONDONTWRITEBYTECODE=1 would compile the project's modules at every start),
    under ``tmp`` rather than in the source tree; the untimed first round fills it."""
    env = env_with(**extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


# ---- a real jupyter server ----------------------------------------------------------------

class Server:
    def __init__(self, tmp: Path, env: dict[str, str], extension: bool):
        runtime = tmp / f"runtime-{extension}"
        argv = [str(BIN / "jupyter"), "server", "--ServerApp.ip=127.0.0.1",
                "--ServerApp.port=0", "--ServerApp.token=t", "--ServerApp.open_browser=False",
                f"--ServerApp.root_dir={tmp}", "--allow-root"]
        if not extension:
            config = tmp / "no-ml-ship.json"
            config.write_text(json.dumps(
                {"ServerApp": {"jpserver_extensions": {"jupyter_ml_ship": False}}}))
            argv.append(f"--config={config}")
        self.log = tmp / f"server-{extension}.log"
        self.proc = subprocess.Popen(argv, env={**env, "JUPYTER_RUNTIME_DIR": str(runtime)},
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        info = runtime / f"jpserver-{self.proc.pid}.json"
        self.port = json.loads(self._until(lambda: info.exists() and info.read_text()))["port"]
        self._until(lambda: self._answers("/api/status"))

    def _until(self, check: Any, timeout: float = 90) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"the jupyter server did not come up:\n{self.log.read_text()[-3000:]}")

    def _answers(self, path: str) -> bool:
        try:
            self.get(path)
            return True
        except OSError:
            return False

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}?token=t", method="GET" if body is None else "POST",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    get = call

    def peak_rss_mib(self) -> float:
        """VmHWM of the server and every process under it (a warm runner, say)."""
        pids, total = [self.proc.pid], 0
        while pids:
            pid = pids.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            total += next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmHWM:"))
            pids += [int(c) for c in children]
        return total / 1024

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)


# ---- the figures ------------------------------------------------------------------------

def run_vs_papermill(tmp: Path, rounds: int) -> list[tuple[str, str]]:
    home = tmp / "home-run"
    env = bytecode_env(tmp, ML_SHIP_HOME=str(home))
    nb = make_notebook(tmp / "run" / "trivial.ipynb", "print(n + 1)", params="n = 1")
    timed([str(BIN / "ml-ship"), "ship", str(nb), "--name", "trivial"], env)
    server = Server(tmp / "run", env, extension=True)
    try:
        server.call("/ml-ship/api/runs", {"job": "trivial"})  # the first need: a warm runner
        settings = MlShip(home=str(home))
        pid = _warm.wait_ready(settings, 60)
        assert pid, "the server started no warm runner"
        times = rotating({
            "ml-ship": ([str(BIN / "ml-ship"), "run", "trivial", "--wait", "-p", "n", "2"], env),
            "papermill": ([str(BIN / "papermill"), "-p", "n", "2", str(nb),
                           str(tmp / "run" / "out.ipynb")], env),
        }, rounds)
        found = _warm.ping(settings) == pid
    finally:
        server.stop()
    ours, theirs = times["ml-ship"], times["papermill"]
    return [
        ("ml-ship run --wait, server up (its warm runner)", f"{ours:.3f} s   {load()}"),
        ("papermill CLI", f"{theirs:.3f} s"),
        ("  ratio (target <= 0.15)", f"{ours / theirs:.2f} x"
                                     + ("" if found else "  (the warm runner was replaced!)")),
    ]


def cli_start(tmp: Path, rounds: int) -> list[tuple[str, str]]:
    home = tmp / "home-cli"
    env = bytecode_env(tmp, ML_SHIP_HOME=str(home))
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    for i in range(5):
        svc.ship(make_notebook(tmp / "cli" / f"j{i}.ipynb", "print(1)"))
    svc.close()
    times = rotating({
        "pass": ([str(BIN / "python"), "-c", "pass"], env),
        "help": ([str(BIN / "ml-ship"), "--help"], env),
        "jobs": ([str(BIN / "ml-ship"), "jobs"], env),
    }, rounds * 2)
    base = times["pass"]
    cpu = {name: median([child_cpu(cmd, env) for cmd, env in [command] * rounds])
           for name, command in (("pass", ([str(BIN / "python"), "-c", "pass"], env)),
                                 ("help", ([str(BIN / "ml-ship"), "--help"], env)),
                                 ("jobs", ([str(BIN / "ml-ship"), "jobs"], env)))}
    return [
        ("python -c pass", f"{base:.3f} s   {load()}"),
        ("ml-ship --help (target <= +0.25 s)", f"{times['help']:.3f} s  "
                                               f"(+{times['help'] - base:.3f} s)"),
        ("ml-ship jobs (target <= +0.25 s)", f"{times['jobs']:.3f} s  "
                                             f"(+{times['jobs'] - base:.3f} s)"),
        ("  CPU-seconds (a quiet machine's wall): pass, --help, jobs",
         f"{cpu['pass']:.3f}, {cpu['help']:.3f}, {cpu['jobs']:.3f}"),
    ]


def child_cpu(cmd: list[str], env: dict[str, str]) -> float:
    """User + system CPU-seconds of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def idle_memory(tmp: Path, settle: float) -> list[tuple[str, str]]:
    rows, peaks = [], {}
    for extension in (False, True):
        folder = tmp / f"mem-{extension}"
        folder.mkdir()
        server = Server(folder, env_with(ML_SHIP_HOME=str(folder / "home")), extension)
        try:
            if extension:  # what the lab asks when it opens
                server.call("/ml-ship/api/health")
                server.call("/ml-ship/api/jobs")
            time.sleep(settle)  # idle: whatever would start in the background has
            peaks[extension] = server.peak_rss_mib()
        finally:
            server.stop()
    rows += [
        ("idle jupyter server, peak RSS, without the extension", f"{peaks[False]:.1f} MiB   "
                                                                  f"{load()}"),
        ("  with it (server + its processes)", f"{peaks[True]:.1f} MiB"),
        ("  added (target <= +50 MiB)", f"+{peaks[True] - peaks[False]:.1f} MiB"),
    ]
    return rows


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_agent(tmp: Path, jobs: int, idle: float) -> list[tuple[str, str]]:
    home = tmp / "home-agent"
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    hour = (datetime.now(timezone.utc).hour + 12) % 24
    for i in range(jobs):
        svc.ship(make_notebook(tmp / "agent" / f"j{i}" / "job.ipynb", "print(1)",
                               metadata={"ml_ship": {"schedule": f"{i % 60} {hour} * * *",
                                                     "name": f"j{i}"}}))
    svc.close()
    log = tmp / "agent.log"
    proc = subprocess.Popen([str(BIN / "ml-ship"), "agent"], env=env_with(ML_SHIP_HOME=str(home)),
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "holding the lease" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        # its start-up (imports, the first ticks reading every schedule) is not idling: settle
        # until two 1-s windows in a row cost it under 10 ms of CPU each (30 s at most)
        quiet, settle_end = 0, time.monotonic() + 30
        while quiet < 2 and time.monotonic() < settle_end:
            was = cpu_seconds(proc.pid)
            time.sleep(1)
            quiet = quiet + 1 if cpu_seconds(proc.pid) - was < 0.01 else 0
        before, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(idle)
        used, wall = cpu_seconds(proc.pid) - before, time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(30)
    return [(f"idle ml-ship agent, {jobs} scheduled jobs, CPU over {wall:.0f} s",
             f"{used:.2f} s   {load()}"),
            ("  share of one core (target <= 0.3 %; sleep: 0 %)", f"{100 * used / wall:.2f} %")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--idle", type=float, default=20)
    ap.add_argument("--settle", type=float, default=3, help="seconds an idle server is left")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        rows = cli_start(tmp_path, args.rounds)
        rows += run_vs_papermill(tmp_path, args.rounds)
        rows += idle_memory(tmp_path, args.settle)
        rows += idle_agent(tmp_path, args.jobs, args.idle)
    print(f"issue #26, every face ({os.cpu_count()} cores):")
    report(rows)


if __name__ == "__main__":
    main()
