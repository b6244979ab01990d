"""The embedded default: the runner in a detached subprocess with the current environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..runner import _warm
from ..runner._proc import start_time
from ..store.blobs import BlobStore, materialize
from .base import Backend, RunContext
from .local_env import ensure_env, pins_requirements, run_env_vars


class LocalBackend(Backend):
    name = "local"

    def __init__(self, settings: Any):
        super().__init__(settings)
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def available(self) -> tuple[bool, str]:
        return True, ""

    def start(self, ctx: RunContext) -> dict[str, Any]:
        if ctx.project_files is not None and ctx.blobs is not None:
            # the run's private copy of the version's files; the runner runs in it
            materialize(BlobStore(ctx.blobs), ctx.project_files, ctx.run_dir / "project")
        env = dict(os.environ)
        env.pop("ML_SHIP_PROJECT_DIR", None)  # that names an image's copy, not this run's
        env.update({k: str(v) for k, v in (ctx.config.get("env") or {}).items()})
        env.update(ctx.secrets)
        env["PYTHONUNBUFFERED"] = "1"
        env["ML_SHIP_RUN_ID"] = ctx.run_id
        own_env = self._version_env(ctx)
        env.update(own_env)
        # the warm runner forks kernels from the server's environment: not for a version's own
        pid = None if own_env else _warm.start_run(self.settings, ctx.run_dir, ctx.log_path, env)
        if pid is not None:
            return {"pid": pid, "start_time": start_time(pid), "warm": True}
        with open(ctx.log_path, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "jupyter_ml_ship.runner", str(ctx.run_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ctx.run_dir,
                env=env,
                start_new_session=True,
            )
        self._children[proc.pid] = proc
        return {"pid": proc.pid, "start_time": start_time(proc.pid)}

    def _version_env(self, ctx: RunContext) -> dict[str, str]:
        """The kernel's environment: the version's own (``local_env``) when it pins
        requirements, else the server's (and the log says which)."""
        if not pins_requirements(ctx.environment, ctx.environment_source):
            ctx.log(f"environment: the server's ({sys.prefix}): this version declares no "
                    "requirements")
            return {}
        folder = ensure_env(self.settings.home_path, ctx.environment,
                            self.settings.wheelhouse, ctx.log)
        return run_env_vars(folder)

    def is_alive(self, ref: dict[str, Any], run_dir: Path) -> bool:
        pid = ref.get("pid")
        if not pid:
            return False
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            self._children.pop(pid, None)
            return False
        started = start_time(pid)
        return started is not None and started == ref.get("start_time")

    def cancel(self, ref: dict[str, Any], run_dir: Path) -> None:
        if self.is_alive(ref, run_dir):
            try:
                os.kill(ref["pid"], signal.SIGTERM)  # the runner interrupts its kernel and reports
            except ProcessLookupError:
                pass

    def kill(self, ref: dict[str, Any]) -> None:
        """Hard stop of the whole process group (runner and kernel)."""
        try:
            os.killpg(ref["pid"], signal.SIGKILL)
        except (ProcessLookupError, KeyError, PermissionError):
            pass
