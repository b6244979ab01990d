"""``python -m jupyter_ml_ship.backends._docker.supervisor RUN_DIR``: one docker run, detached.

Started by ``DockerBackend.start`` (and again by ``is_alive`` when a supervisor died while its
container lives on). It holds an exclusive ``flock`` on ``RUN_DIR/supervisor.lock`` for its whole
life: that lock, not a pid, is how the service knows a run is being looked after.

1. ``building``: build the version's image (output into ``log.txt``), unless it exists;
2. ``running``: a container labelled ``ml-ship.run=<id>`` runs the runner on ``RUN_DIR/work``
   (bind-mounted at its host path, the home's other runs read-only beside it; the runner's state
   and partial output are linked into the run dir, its stdout/stderr append to ``log.txt``
   directly), as the service's uid, with the limits of the job config;
3. collect: the runner's ``result.json`` is amended (out of memory, killed, vanished) and only then
   copied into the run dir with the output notebook, so the service never sees a premature result;
   the container is removed.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import signal
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ...store.files import atomic_write_json, read_json
from .build import BuildFailed, ensure_image
from .context import plan_from_json
from .engine import (
    LABEL_DIGEST,
    LABEL_JOB,
    LABEL_RUN,
    LABEL_VERSION,
    connect,
    human_bytes,
    short_error,
)

SPEC, SUPERVISOR, LOCK = "docker.json", "supervisor.json", "supervisor.lock"
CANCEL, CONTAINER, WORK = "cancel.request", "container.json", "work"
#: beyond timeout x attempts, how long the runner gets to stop on its own before a hard kill
HARD_LIMIT_GRACE = 30.0


class Cancelled(BaseException):
    """Raised from the SIGTERM handler to abandon a build (BaseException: not a build error)."""


def container_name(run_id: str) -> str:
    return f"ml-ship-run-{run_id}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _link(run_dir: Path, name: str) -> None:
    """``RUN_DIR/name -> work/name`` (replaces a file of that name atomically)."""
    tmp = run_dir / f".{name}.link"
    tmp.unlink(missing_ok=True)
    os.symlink(f"{WORK}/{name}", tmp)
    os.replace(tmp, run_dir / name)


class Supervisor:
    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.work = run_dir / WORK
        self.spec: dict[str, Any] = read_json(run_dir / SPEC) or {}
        self.run_id: str = self.spec.get("run_id", run_dir.name)
        self.name = container_name(self.run_id)
        self.stop: str | None = None  # "cancelled" or "timed_out"
        self.building = False

    # ---- plumbing -------------------------------------------------------------------------

    def log(self, line: str) -> None:
        with open(self.run_dir / "log.txt", "a", encoding="utf-8") as fh:
            fh.write(line.rstrip("\n") + "\n")

    def _on_term(self, _signum: int, _frame: Any) -> None:
        self.stop = self.stop or "cancelled"
        if self.building:
            raise Cancelled()

    def _cancel_requested(self) -> bool:
        if self.stop is None and (self.run_dir / CANCEL).exists():
            self.stop = "cancelled"
        return self.stop == "cancelled"

    def finish(self, status: str, ename: str, message: str,
               base: dict[str, Any] | None = None) -> None:
        """Write the run's result (once) with an error of our own."""
        if (self.run_dir / "result.json").exists():
            return
        self.log(f"[ml-ship] run {status}: {message}")
        result = {"status": status, "outputs": {}, "attempts": 0, "started_at": None,
                  **(base or {}), "ended_at": _now()}
        result["error"] = {"ename": ename, "evalue": message, "message": message}
        atomic_write_json(self.run_dir / "result.json", result)

    # ---- the three phases -----------------------------------------------------------------

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        from ...runner._proc import start_time as _start_time

        atomic_write_json(self.run_dir / SUPERVISOR,
                          {"pid": os.getpid(), "start_time": _start_time(os.getpid())})
        if (self.run_dir / "result.json").exists():
            return
        client = connect(self.spec.get("docker_host", ""), timeout=60)
        record = read_json(self.run_dir / CONTAINER) or {}
        container = self._find(client)
        if container is None:
            if record.get("created"):
                self._collect(None, record)  # vanished: maybe the runner finished before that
                return
            if self._cancel_requested():
                self.finish("cancelled", "Cancelled", "cancelled before the container started")
                return
            tag = self._build(client)
            if tag is None:
                return
            container, record = self.start_container(client, tag)
            if container is None:
                return
        self._wait(client, container, record)
        self._collect(container, record)

    def _find(self, client: Any) -> Any | None:
        from .engine import run_container

        return run_container(client, self.run_id)

    def _build(self, client: Any) -> str | None:
        atomic_write_json(self.run_dir / "state.json", {"phase": "building", "pid": os.getpid()})
        plan = plan_from_json(self.spec["plan"])
        try:
            self.building = True  # from here SIGTERM abandons the build (raises Cancelled)
            if self._cancel_requested():
                raise Cancelled()
            tag, _ = ensure_image(client, plan, self.log,
                                  Path(self.spec["home"]) / "docker" / "locks")
            self.building = False
        except Cancelled:
            self.building = False
            self.finish("cancelled", "Cancelled", "cancelled while building the image")
            return None
        except BuildFailed as exc:
            self.building = False
            self.finish("failed", "BuildFailed", str(exc))
            return None
        if self._cancel_requested():
            self.finish("cancelled", "Cancelled", "cancelled before the container started")
            return None
        return tag

    def start_container(self, client: Any, tag: str, secrets: dict[str, str] | None = None
                        ) -> tuple[Any | None, dict[str, Any]]:
        """Create and start the run's container (also called by ``start()`` when the image
        exists, so the supervisor's own start-up is off the critical path)."""
        import docker.errors

        self.work.mkdir(exist_ok=True)
        for name in ("run.json", "input.ipynb"):
            shutil.copyfile(self.run_dir / name, self.work / name)
        atomic_write_json(self.work / "state.json", {"phase": "running", "started_at": _now()})
        _link(self.run_dir, "state.json")
        _link(self.run_dir, "output.partial.ipynb")
        (self.run_dir / "log.txt").touch()
        record = {"name": self.name, "image": tag, "created": False}
        atomic_write_json(self.run_dir / CONTAINER, record)
        try:
            container = client.containers.create(tag, **self._container_args(secrets))
            record.update(id=container.id, created=True, started_at=_now())
            atomic_write_json(self.run_dir / CONTAINER, record)
            container.start()
        except docker.errors.APIError as exc:
            self.finish("failed", "ContainerError", f"the container could not start: "
                        f"{exc.explanation or exc}", {"started_at": _now()})
            self._remove(client)
            return None, record
        self.log(f"[ml-ship] container {self.name} started from {tag}" + self._limits_text())
        return container, record

    def _container_args(self, secrets: dict[str, str] | None = None) -> dict[str, Any]:
        from docker.types import Mount

        cfg = self.spec.get("config") or {}
        env = {str(k): str(v) for k, v in (cfg.get("env") or {}).items()}
        if secrets is None:
            secrets = {n: os.environ[n] for n in self.spec.get("secret_names") or []
                       if n in os.environ}
        env.update(secrets)
        env.update(PYTHONUNBUFFERED="1", ML_SHIP_RUN_ID=self.run_id, HOME="/tmp")
        plan = self.spec["plan"]
        work, runs = str(self.work), str(self.run_dir.parent)
        args: dict[str, Any] = {
            "name": self.name,
            "command": ["/bin/sh", "-c", 'exec python -m jupyter_ml_ship.runner "$0" '
                        ">>/run-log.txt 2>&1", work],
            "environment": env,
            "labels": {LABEL_RUN: self.run_id, LABEL_JOB: plan["job"],
                       LABEL_VERSION: str(plan["version"]), LABEL_DIGEST: plan["digest"]},
            "user": f"{os.getuid()}:{os.getgid()}",
            "working_dir": work,
            # the work dir at its host path, over every run of the home read-only: a file path
            # one step records (``record("data_path", ...)``) opens the same in the next step,
            # in a container or on the host
            "mounts": [Mount(runs, runs, type="bind", read_only=True),
                       Mount(work, work, type="bind"),
                       Mount("/run-log.txt", str(self.run_dir / "log.txt"), type="bind")],
            "init": True,
            "detach": True,
        }
        memory, cpus, gpus = self.spec.get("memory") or 0, self.spec.get("cpus") or 0, 0
        if memory:
            args["mem_limit"] = args["memswap_limit"] = int(memory)
        if cpus:
            args["nano_cpus"] = int(float(cpus) * 1e9)
        if not cfg.get("network"):
            args["network_mode"] = "none"
        gpus = int(((cfg.get("resources") or {}).get("gpu")) or 0)
        if gpus:
            from docker.types import DeviceRequest

            args["device_requests"] = [DeviceRequest(count=gpus, capabilities=[["gpu"]])]
        return args

    def _limits_text(self) -> str:
        parts = []
        if self.spec.get("memory"):
            parts.append(f"memory {human_bytes(int(self.spec['memory']))}")
        if self.spec.get("cpus"):
            parts.append(f"{float(self.spec['cpus']):g} CPU")
        parts.append("network" if (self.spec.get("config") or {}).get("network") else "no network")
        return " (" + ", ".join(parts) + ")"

    def _wait(self, client: Any, container: Any, record: dict[str, Any]) -> None:
        import docker.errors
        import requests

        timeout = self.spec.get("timeout")
        attempts = int(self.spec.get("max_attempts") or 1)
        limit = float(timeout) * attempts + HARD_LIMIT_GRACE if timeout else None
        started = datetime.fromisoformat(record.get("started_at") or _now())
        grace = float(self.spec.get("stop_grace") or 10)
        term_sent: float | None = None
        killed = False
        while True:
            try:
                client.api.wait(container.id, timeout=1)
                return
            except docker.errors.NotFound:
                return
            except (requests.exceptions.RequestException, docker.errors.APIError):
                pass  # wait timed out (or the engine hiccuped): check our deadlines
            elapsed = (datetime.now(timezone.utc) - started).total_seconds()
            if self.stop is None and limit and elapsed > limit:
                self.stop = "timed_out"
                self.log(f"[ml-ship] hard time limit of {limit:g} s reached: killing the container")
                self._kill(container, "SIGKILL")
                killed = True
            if self._cancel_requested() and term_sent is None:
                self.log("[ml-ship] cancel requested: stopping the container")
                self._kill(container, "SIGTERM")
                term_sent = time.monotonic()
            if term_sent and not killed and time.monotonic() - term_sent > grace:
                self._kill(container, "SIGKILL")
                killed = True

    @staticmethod
    def _kill(container: Any, sig: str) -> None:
        try:
            container.kill(signal=sig)
        except Exception:  # already gone or stopped
            pass

    def _collect(self, container: Any | None, record: dict[str, Any]) -> None:
        import docker.errors

        state: dict[str, Any] | None = None
        memory = 0
        if container is not None:
            try:
                container.reload()
                state = container.attrs.get("State") or {}
                memory = int((container.attrs.get("HostConfig") or {}).get("Memory") or 0)
            except docker.errors.NotFound:
                state = None
        result = read_json(self.work / "result.json")
        base: dict[str, Any] = {"started_at": record.get("started_at"), "attempts": 1,
                                "outputs": {}, "ended_at": _now()}
        oom = bool(state and state.get("OOMKilled"))
        status = (result or {}).get("status", "failed")
        if oom and status == "succeeded":
            self.log("[ml-ship] a process of the run was killed for lack of memory, but the "
                     "notebook succeeded")
        elif oom and status == "failed":  # a cancel or a timeout stays what it was
            limit = f"its memory limit of {human_bytes(memory)}" if memory else "the host's memory"
            message = (f"out of memory: the run used more than {limit} and was killed; raise "
                       "metadata.ml_ship.resources.memory")
            prior = ((result or {}).get("error") or {}).get("message")
            result = {**base, **(result or {}), "status": "failed", "error": {
                "ename": "OutOfMemory", "evalue": message,
                "message": message + (f" ({prior})" if prior else "")}}
            self.log(f"[ml-ship] {message}")
        elif result is None:
            if self.stop:
                message = ("cancelled" if self.stop == "cancelled" else
                           f"timed out after {float(self.spec.get('timeout') or 0):g} s: the "
                           "runner did not stop by itself, so the container was killed")
                ename = "Cancelled" if self.stop == "cancelled" else "Timeout"
            elif state is None:
                message = (f"the container {self.name} vanished (removed outside ml-ship, or the "
                           "Docker engine restarted)")
                ename = "ContainerVanished"
            else:
                code = state.get("ExitCode")
                why = f" ({state['Error']})" if state.get("Error") else (
                    " (killed)" if code == 137 else "")
                message = f"the container exited with code {code}{why} without a result"
                ename = "ContainerExited"
            self._move_outputs()
            self.finish(self.stop or "failed", ename, message, base)
            self._remove_container(container)
            return
        self._move_outputs()
        if not (self.run_dir / "result.json").exists():
            atomic_write_json(self.run_dir / "result.json", result)
        self._remove_container(container)

    def _move_outputs(self) -> None:
        state = read_json(self.work / "state.json")
        if state is not None:
            atomic_write_json(self.run_dir / "state.json", state)  # replaces the link
        partial = self.run_dir / "output.partial.ipynb"
        if partial.is_symlink():
            partial.unlink()
        for name in ("output.ipynb", "output.partial.ipynb", "artifacts.json"):
            if (self.work / name).exists():
                os.replace(self.work / name, self.run_dir / name)

    @staticmethod
    def _remove_container(container: Any | None) -> None:
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:  # already removed
                pass

    def _remove(self, client: Any) -> None:
        self._remove_container(self._find(client))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_ml_ship.backends._docker.supervisor")
    parser.add_argument("run_dir")
    parser.add_argument("--lock-fd", type=int, help="an inherited fd that already holds the lock")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir).resolve()
    if args.lock_fd is not None:
        lock_fd = args.lock_fd
    else:
        lock_fd = os.open(run_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another supervisor has this run
    sup = Supervisor(run_dir)
    try:
        sup.run()
    except Exception as exc:
        traceback.print_exc()
        sup.finish("failed", "SupervisorError", f"the docker supervisor failed "
                   f"({type(exc).__name__}): {short_error(exc)}")
        return 1
    finally:
        os.close(lock_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
