"""Start the kernel before papermill is even imported, then hand it to papermill.

Importing papermill and starting a kernel each take most of a second; doing them side by side
is what lets a run cost less than the plain papermill CLI. The environment's own ``python3``
kernel talks over IPC sockets (no TCP ports, nothing to eavesdrop, no port picked by one
process and taken by another): in the run directory, or in a private directory under the temp
dir when the run directory's path is too long for a unix socket. Another installed kernel (R's
``ir``) is started early too, from its kernelspec's ``argv``, on 127.0.0.1 (IRkernel speaks
TCP only); one that needs more than its ``argv`` (a kernel provisioner, interrupts by message)
goes through papermill's usual path.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from ._fork import fork_into

CONNECTION_FILE = ".kernel-connection.json"
#: set in runners forked by the warm runner (``_forkserver``): ipykernel and IPython are already
#: imported there, so the kernel is forked from the runner instead of started as a new process
FORK_KERNELS = False
#: unix socket paths are limited to 107 bytes; zmq appends "-PORT" to the prefix
IPC_PATH_MAX = 100


def _native_python3() -> bool:
    """Whether the ``python3`` kernel of this environment is this interpreter's ipykernel."""
    from importlib.util import find_spec

    if find_spec("ipykernel_launcher") is None:
        return False
    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    try:
        argv = json.loads(spec.read_text())["argv"]
    except (OSError, ValueError, KeyError):
        return True  # no kernelspec file: jupyter_client's native python3 is this interpreter
    return argv[0] in ("python", "python3", sys.executable)


class EarlyKernel:
    """A kernel process started by the runner itself."""

    def __init__(self, run_dir: Path, cwd: Path | None = None,
                 extra_path: list[str] | None = None, spec: KernelArgv | None = None):
        self.run_dir = run_dir = run_dir.resolve()
        self.kernel_name = spec.name if spec is not None else "python3"
        cwd = (cwd or run_dir).resolve()  # the notebook's folder in the run's project copy
        self.connection_file = run_dir / CONNECTION_FILE
        self.private_dir: Path | None = None
        prefix = run_dir / ".kernel-ipc"
        if len(str(prefix)) >= IPC_PATH_MAX:
            self.private_dir = Path(tempfile.mkdtemp(prefix="ml-ship-kernel-"))  # mode 0700
            prefix = self.private_dir / "ipc"
        use_ipc = len(str(prefix)) < IPC_PATH_MAX and spec is None
        info: dict[str, Any] = {
            "transport": "ipc" if use_ipc else "tcp",
            "ip": str(prefix) if use_ipc else "127.0.0.1",
            "key": secrets.token_hex(32),
            "signature_scheme": "hmac-sha256",
            "kernel_name": self.kernel_name,
        }
        ports = _free_ports(5) if not use_ipc else list(range(1, 6))
        for name, port in zip(("shell", "iopub", "stdin", "control", "hb"), ports):
            info[f"{name}_port"] = port
        fd = os.open(self.connection_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        self.proc: Any
        if spec is not None:
            self.proc = subprocess.Popen(
                [a.replace("{connection_file}", str(self.connection_file)) for a in spec.argv],
                cwd=cwd, stdin=subprocess.DEVNULL,
                env={**os.environ, **spec.env, "JPY_PARENT_PID": str(os.getpid())},
            )
        elif FORK_KERNELS:
            self.proc = _fork_kernel(self.connection_file, cwd, extra_path or [])
            _forked_once()
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ipykernel_launcher", "-f", str(self.connection_file)],
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "JPY_PARENT_PID": str(os.getpid())},  # exits with the runner
            )

    def manager(self) -> Any:
        """A jupyter_client kernel manager bound to this process (for papermill's ``km``)."""
        from jupyter_client.manager import AsyncKernelManager

        from ._client import PromptKernelClient

        proc = self.proc

        class AdoptedKernelManager(AsyncKernelManager):
            @property
            def has_kernel(self) -> bool:
                return True

            async def _async_is_alive(self) -> bool:
                return proc.poll() is None

            is_alive = _async_is_alive

            # async, like AsyncKernelManager's own (jupyter_client types these two as
            # KernelManager's sync methods and ignores the mismatch itself)
            async def interrupt_kernel(self) -> None:  # type: ignore[override]
                if proc.poll() is None:
                    proc.send_signal(2)

            async def shutdown_kernel(  # type: ignore[override]
                    self, now: bool = False, restart: bool = False) -> None:
                stop(proc)

        km = AdoptedKernelManager(kernel_name=self.kernel_name,
                                  client_factory=PromptKernelClient)
        km.load_connection_file(str(self.connection_file))
        return km

    def stop(self) -> None:
        stop(self.proc)
        for path in self.run_dir.glob(".kernel-ipc-*"):
            path.unlink(missing_ok=True)
        if self.private_dir is not None:
            shutil.rmtree(self.private_dir, ignore_errors=True)
        self.connection_file.unlink(missing_ok=True)


def _forked_once() -> None:
    """Only the first kernel is forked: the runner is single-threaded until its first attempt
    (after it, zmq's I/O threads exist, and forking a threaded process is not safe), so a
    retry starts its kernel as a new process."""
    global FORK_KERNELS
    FORK_KERNELS = False


class ForkedKernel:
    """The part of ``subprocess.Popen`` the runner uses, for a kernel forked by the runner."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        until = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if until is not None and time.monotonic() > until:
                raise subprocess.TimeoutExpired(["kernel"], timeout or 0)
            time.sleep(0.005)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _fork_kernel(connection_file: Path, cwd: Path, extra_path: list[str]) -> ForkedKernel:
    """Fork this (single-threaded, warm) runner into an IPython kernel on ``connection_file``,
    in ``cwd`` with it first on ``sys.path`` (as ``python -m ipykernel_launcher`` there)."""
    parent = os.getpid()

    def kernel() -> int:
        os.chdir(cwd)
        sys.path[:1] = [str(cwd), *[p for p in extra_path if p not in sys.path]]
        # what ``python -m ipykernel_launcher`` would start from, not the runner's state
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]  # the runner's shortcut, not the user's
        os.environ["JPY_PARENT_PID"] = str(parent)
        # the trait's default read JPY_PARENT_PID when the warm runner imported ipykernel
        argv = ["-f", str(connection_file), f"--IPKernelApp.parent_handle={parent}"]
        import ipykernel_launcher
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = [ipykernel_launcher.__file__, *argv]
        IPKernelApp.launch_instance(argv=argv)
        return 0

    return ForkedKernel(fork_into(kernel))


def stop(proc: Any) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _free_ports(n: int) -> list[int]:
    import socket

    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class KernelArgv(NamedTuple):
    """What starts an installed kernel: its kernelspec's ``argv`` and ``env``."""

    name: str
    argv: list[str]
    env: dict[str, str]


def kernel_argv(name: str) -> KernelArgv | None:
    """The kernelspec ``name`` as jupyter_client would find it (the same Jupyter paths, in
    order), when its ``argv`` alone starts it; None otherwise."""
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("kernels"):
        path = Path(base) / name / "kernel.json"
        if not path.is_file():
            continue
        try:
            spec = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        argv, env = spec.get("argv"), spec.get("env") or {}
        provisioner = ((spec.get("metadata") or {}).get("kernel_provisioner") or {}).get(
            "provisioner_name", "local-provisioner")
        if not isinstance(argv, list) or "{connection_file}" not in argv or not isinstance(
                env, dict) or provisioner != "local-provisioner" or spec.get(
                "interrupt_mode", "signal") != "signal":
            return None
        return KernelArgv(name, [str(a) for a in argv], {str(k): str(v) for k, v in env.items()})
    return None


def start_early(run_dir: Path, kernel_name: str | None, cwd: Path | None = None,
                extra_path: list[str] | None = None) -> EarlyKernel | None:
    if os.environ.get("ML_SHIP_NO_EARLY_KERNEL"):
        return None
    version_python = os.environ.get("ML_SHIP_KERNEL_PYTHON")  # the version's env (local_env)
    if version_python and (kernel_name or "python3") == "python3":
        argv = [version_python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        return EarlyKernel(run_dir, cwd, extra_path or [], KernelArgv("python3", argv, {}))
    if (kernel_name or "python3") != "python3":
        spec = kernel_argv(str(kernel_name))
        return EarlyKernel(run_dir, cwd, extra_path or [], spec) if spec is not None else None
    if not _native_python3():
        return None
    return EarlyKernel(run_dir, cwd, extra_path or [])
