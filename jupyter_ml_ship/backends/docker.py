"""The ``docker`` backend: one image per version, one labelled container per run.

``start`` only writes ``docker.json`` and launches a detached supervisor
(``_docker/supervisor.py``) that builds the image (``building``), runs the container
(``running``) and collects the result; the caller never waits for a build. The service finds the
run again through the supervisor's lock and the container's name/label, so a new CLI process or a
restarted server re-attaches, and a supervisor that died is replaced.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable, BadInput
from ..runner._proc import start_time as _start_time
from ..store.files import atomic_write_json, read_json
from ._docker.build import existing_image
from ._docker.context import BuildPlan, choose_installer, plan_to_json, read_ca_bundle
from ._docker.engine import (
    LABEL_BUILD,
    engine_url,
    memory_bytes,
    ping,
    run_container,
    short_error,
)
from ._docker.images import list_images, prune_images
from ._docker.supervisor import (
    CANCEL,
    CONTAINER,
    LOCK,
    SPEC,
    SUPERVISOR,
    Supervisor,
    container_name,
)
from .base import Backend, RunContext

#: how long an ``available()`` answer is reused (run() asks it every time)
AVAILABLE_TTL = 5.0
#: a supervisor that died this many times is not started again
MAX_RESTARTS = 3
MIN_MEMORY = 6 * 1024 * 1024
CONFIG_KEYS = ("env", "resources", "network", "timeout", "retries", "base_image", "secrets")


class DockerBackend(Backend):
    name = "docker"

    def __init__(self, settings: Any):
        super().__init__(settings)
        self._client: Any = None
        self._arch: str | None = None
        self._available: tuple[float, tuple[bool, str]] | None = None
        self._children: list[subprocess.Popen[bytes]] = []

    # ---- engine ---------------------------------------------------------------------------

    def client(self) -> Any:
        """A connected client, or BackendUnavailable naming the engine and the reason."""
        if self._client is None:
            client, reason = ping(self.settings.docker_host)
            if client is None:
                raise BackendUnavailable(reason)
            client.api.timeout = 60
            self._client = client
        return self._client

    def available(self) -> tuple[bool, str]:
        now = time.monotonic()
        if self._available and now - self._available[0] < AVAILABLE_TTL:
            return self._available[1]
        answer = self._check()
        self._available = (now, answer)
        return answer

    def _check(self) -> tuple[bool, str]:
        import docker.errors

        client, reason = ping(self.settings.docker_host)
        if client is None:
            self._client = None
            return False, reason
        base = self.settings.docker_base_image
        try:
            client.images.get(base)
            return True, ""
        except docker.errors.ImageNotFound:
            pass
        except Exception as exc:
            return False, f"Docker engine at {engine_url(self.settings.docker_host)}: " \
                          f"{short_error(exc)}"
        try:
            client.api.inspect_distribution(base)
            return True, f"base image {base} will be pulled on the first build"
        except Exception as exc:
            return False, (f"base image {base} is not present locally and cannot be pulled "
                           f"({short_error(exc)}); load or build it, or set "
                           "ML_SHIP_DOCKER_BASE_IMAGE (c.MlShip.docker_base_image)")

    def _engine_arch(self) -> str:
        if self._arch is None:
            try:
                self._arch = str(self.client().version().get("Arch") or "")
            except Exception:
                self._arch = ""
        return self._arch

    # ---- start ----------------------------------------------------------------------------

    def plan(self, job: str, version: int, digest: str, environment: str,
             environment_source: str, notebook_file: Path,
             config: dict[str, Any] | None = None,
             project: tuple[list[dict[str, Any]], Path, str] | None = None) -> BuildPlan:
        """The build plan of a version's image under the current settings; ``project``: its
        files (manifest entries), their blob folder and the notebook's folder among them."""
        s = self.settings
        try:
            installer, uv = choose_installer(s.docker_installer, self._engine_arch())
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        if s.ca_bundle:
            try:
                read_ca_bundle(s.ca_bundle)
            except (OSError, ValueError) as exc:
                raise BadInput(f"ca_bundle (ML_SHIP_CA_BUNDLE): {exc}") from None
        if s.wheelhouse and not Path(s.wheelhouse).expanduser().is_dir():
            raise BadInput(f"wheelhouse (ML_SHIP_WHEELHOUSE) {s.wheelhouse}: not a directory")
        return BuildPlan(
            job=job, version=version, digest=digest,
            base_image=(config or {}).get("base_image") or s.docker_base_image,
            lock=environment, lock_source=environment_source, notebook_file=Path(notebook_file),
            ca_bundle=s.ca_bundle, wheelhouse=s.wheelhouse, installer=installer, uv_path=uv,
            has_project=project is not None,
            project_files=project[0] if project else [],
            blobs=str(project[1]) if project else "",
            notebook_dir=project[2] if project else "",
            r_base_image=s.docker_r_base_image,
        )

    def start(self, ctx: RunContext) -> dict[str, Any]:
        cfg = ctx.config
        resources = cfg.get("resources") or {}
        try:
            memory = memory_bytes(resources.get("memory") or self.settings.docker_memory)
        except ValueError as exc:
            raise BadInput(f"job {ctx.job} v{ctx.version}: resources.{exc}") from None
        if memory and memory < MIN_MEMORY:
            raise BadInput(f"job {ctx.job} v{ctx.version}: resources.memory must be at least 6m")
        project = ((ctx.project_files, ctx.blobs, ctx.notebook_dir)
                   if ctx.project_files is not None and ctx.blobs is not None else None)
        plan = self.plan(ctx.job, ctx.version, ctx.digest, ctx.environment,
                         ctx.environment_source, ctx.notebook_file, cfg, project)
        spec = {
            "run_id": ctx.run_id,
            "plan": plan_to_json(plan),
            "config": {k: cfg[k] for k in CONFIG_KEYS if k in cfg},
            "secret_names": sorted(ctx.secrets),  # names only: values go by environment
            "timeout": ctx.spec.get("timeout"),
            "max_attempts": ctx.spec.get("max_attempts", 1),
            "memory": memory,
            "cpus": float(resources.get("cpu") or self.settings.docker_cpus or 0),
            "stop_grace": self.settings.docker_stop_grace,
            "docker_host": self.settings.docker_host,
            "home": str(self.settings.home_path),
        }
        atomic_write_json(ctx.run_dir / SPEC, spec)
        fd = self._lock(ctx.run_dir)
        if fd is None:
            raise BackendUnavailable(f"run {ctx.run_id} already has a docker supervisor")
        try:
            started = self._start_if_built(ctx.run_dir, plan, ctx.secrets)
            pid = self._spawn(ctx.run_dir, ctx.secrets, lock_fd=fd)
        finally:
            os.close(fd)
        return {"supervisor_pid": pid, "container": container_name(ctx.run_id),
                "status": "running" if started else "building"}

    def _start_if_built(self, run_dir: Path, plan: BuildPlan, secrets: dict[str, str]) -> bool:
        """When the image is already built, start the container here and now (fast path)."""
        tag = plan.tag
        image = existing_image(self.client(), tag)
        if image is None or image.labels.get(LABEL_BUILD) != plan.build_key():
            return False
        sup = Supervisor(run_dir)
        sup.log(f"[ml-ship] image {tag} is up to date: nothing to build")
        container, _record = sup.start_container(self.client(), tag, secrets)
        return container is not None

    def _spawn(self, run_dir: Path, secrets: dict[str, str], lock_fd: int | None = None) -> int:
        """Launch a supervisor that inherits the run's lock (so no one else starts one)."""
        self._reap()
        fd = lock_fd if lock_fd is not None else self._lock(run_dir)
        if fd is None:
            raise BackendUnavailable(f"run {run_dir.name} already has a docker supervisor")
        env = dict(os.environ)
        env.update(secrets)
        env["PYTHONUNBUFFERED"] = "1"
        try:
            with open(run_dir / "log.txt", "ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "jupyter_ml_ship.backends._docker.supervisor",
                     str(run_dir), "--lock-fd", str(fd)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=run_dir,
                    env=env, start_new_session=True, pass_fds=(fd,),
                )
        finally:
            if lock_fd is None:
                os.close(fd)
        self._children.append(proc)
        return proc.pid

    @staticmethod
    def _lock(run_dir: Path) -> int | None:
        """The run's supervisor lock (an fd holding it), or None when a supervisor has it."""
        fd = os.open(run_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def _reap(self) -> None:
        self._children = [p for p in self._children if p.poll() is None]

    # ---- follow ---------------------------------------------------------------------------

    def is_alive(self, ref: dict[str, Any], run_dir: Path) -> bool:
        self._reap()
        fd = self._lock(run_dir)
        if fd is None:
            return True  # a supervisor is looking after the run
        try:
            if (run_dir / "result.json").exists():
                return False
            return self._recover(run_dir, fd)
        finally:
            os.close(fd)

    def _recover(self, run_dir: Path, fd: int) -> bool:
        """No supervisor: start one if there is something left to do, else say why not."""
        spec = read_json(run_dir / SPEC)
        if not spec:
            return False
        client, _reason = ping(spec.get("docker_host", ""))
        if client is None:
            return True  # the engine is away: the container may well be running; ask later
        created = (read_json(run_dir / CONTAINER) or {}).get("created")
        if run_container(client, spec["run_id"]) is None and not created:
            missing = [n for n in spec.get("secret_names") or [] if n not in os.environ]
            if missing:
                self._fail(run_dir, "the docker supervisor died before the container started, "
                           f"and secret(s) {', '.join(missing)} are not set here to restart it")
                return False
        restarts_file = run_dir / "supervisor.restarts"
        restarts = int((read_json(restarts_file) or {}).get("count", 0))
        if restarts >= MAX_RESTARTS:
            self._fail(run_dir, f"the docker supervisor died {restarts + 1} times; see the log")
            return False
        atomic_write_json(restarts_file, {"count": restarts + 1})
        secrets = {n: os.environ[n] for n in spec.get("secret_names") or [] if n in os.environ}
        self._spawn(run_dir, secrets, lock_fd=fd)
        return True

    @staticmethod
    def _fail(run_dir: Path, message: str) -> None:
        with open(run_dir / "log.txt", "a", encoding="utf-8") as fh:
            fh.write(f"[ml-ship] run failed: {message}\n")
        atomic_write_json(run_dir / "result.json", {
            "status": "failed", "outputs": {}, "attempts": 0,
            "error": {"ename": "SupervisorLost", "evalue": message, "message": message}})

    def cancel(self, ref: dict[str, Any], run_dir: Path) -> None:
        if (run_dir / "result.json").exists():
            return
        (run_dir / CANCEL).touch()
        sup = read_json(run_dir / SUPERVISOR) or {}
        pid = sup.get("pid")
        if pid and _start_time(pid) is not None and _start_time(pid) == sup.get("start_time"):
            try:
                os.kill(pid, signal.SIGTERM)
                return
            except ProcessLookupError:
                pass
        self.is_alive(ref, run_dir)  # no supervisor: one is started, sees the request, stops

    # ---- images ---------------------------------------------------------------------------

    def images(self, job: str | None = None) -> list[dict[str, Any]]:
        return list_images(self.client(), job)

    def prune(self, current: dict[str, int | None], dry_run: bool = False
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return prune_images(self.client(), current, dry_run)
