"""``python -m jupyter_ml_ship.runner._forkserver SOCKET IDLE [OWNER]``: the local backend's warm runner.

A cold run spends most of a CPU-second before its first cell: an interpreter starts, imports
papermill, nbclient and jupyter_client, and its kernel imports ipykernel and IPython. On two
cores, four pipeline steps at once are bound by exactly that. This process imports all of it
once, then forks a runner per run; the runner forks its kernel from the same warm image (see
``_kernel``), so a step pays only for its own work.

A forked runner is what a cold one is: its own session (cancel and kill reach the runner and its
kernel), the run's log as stdout and stderr, the run directory as its working directory, the
environment the backend composed for the run (secrets included: they travel over this socket,
mode 0600, and are never written). The server answers one JSON line per connection:
``{"op": "run", "run_dir", "log", "env"}`` → ``{"pid"}``; ``{"op": "schedule", "run_id",
"settings", "log", "cwd", "env", "entry"}`` (a pipeline run's scheduler: ``entry`` names the
module whose ``serve`` it runs, ``core/scheduler_process``) →
``{"pid"}``; ``{"op": "ping"}``; ``{"op": "stop"}``.
It exits after ``IDLE`` seconds without a request, when its socket is removed or replaced, when
a module it preloaded changed on disk (it answers ``{"stale": true}``; the backend then starts
that run cold and a fresh server takes over), and when its ``OWNER`` (the pid of the process
that started it: a Jupyter server, an agent) is gone, killed or not, so that a replacement never
finds a leftover. The owner is watched through a pidfd (its exit wakes this process at once)
and by ``os.getppid()`` changing (the owner is the parent). ``PR_SET_PDEATHSIG`` is not used: it
fires when the *thread* that started the process ends, and the server starts it from a pool
thread.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # as the runner does

from ._changes import ModuleChanges  # noqa: E402
from ._fork import fork_into  # noqa: E402
from ._warm import read_message, same_pythonpath, send_message  # noqa: E402

#: what a runner and its kernel import; loaded once here
PRELOAD = (
    "papermill", "papermill.execute", "papermill.engines", "papermill.translators",
    "papermill.iorw", "nbclient", "nbformat", "jupyter_client.manager",
    "ipykernel.kernelapp", "ipykernel.ipkernel", "IPython",
    # imported by the kernel while it initializes (the debugger alone is ~60 ms of CPU)
    "ipykernel.debugger", "ipykernel.zmqshell", "IPython.core.history", "IPython.extensions",
    "sqlite3", "pdb", "faulthandler", "ipykernel_launcher", "jupyter_ml_ship.runner._execute",
    "jupyter_ml_ship.runner._client", "IPython.core.completerlib", "IPython.core.debugger",
    "IPython.core.oinspect", "IPython.extensions.storemagic", "IPython.utils.wildcard",
    "tornado.platform.asyncio",
    # a pipeline scheduler (forked from here too)
    "jupyter_ml_ship.core", "jupyter_ml_ship.core.scheduler_process",
    "jupyter_ml_ship.backends.local",
    "sqlalchemy.dialects.sqlite.pysqlite",
)


def _preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    import nbformat
    from nbformat.v4 import new_notebook

    nbformat.validate(new_notebook())  # compiles the notebook schema once


def _module_times() -> dict[str, float]:
    times = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path:
            try:
                times[path] = os.stat(path).st_mtime
            except OSError:
                pass
    return times


def _reply(conn: socket.socket, answer: dict[str, Any]) -> None:
    try:
        send_message(conn, answer)
    except OSError:
        pass  # the client gave up waiting: it starts that run cold


def _become(req: dict[str, Any], cwd: str, base_path: list[str]) -> None:
    """In a forked child: a detached process of its own with the request's log and env."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(req["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in req["env"].items()})
    sys.path[:] = [cwd, *base_path]  # as ``python -m`` started there would have it
    importlib.invalidate_caches()  # packages installed since this server started are found


def _runner(req: dict[str, Any], base_path: list[str]) -> int:
    run_dir = str(Path(req["run_dir"]).resolve())
    _become(req, run_dir, base_path)
    sys.argv = [str(Path(__file__).with_name("__main__.py")), run_dir]
    from . import _kernel
    from ._execute import execute_run_dir

    _kernel.FORK_KERNELS = True
    result = execute_run_dir(run_dir)
    return 0 if result["status"] == "succeeded" else 1


#: what else a warm runner forks: a pipeline scheduler, whose entry module its request names
#: (the runner layer imports no pipeline code; the process it forks does), one of ours only
ENTRY_PACKAGE = "jupyter_ml_ship."


def _scheduler(req: dict[str, Any], base_path: list[str]) -> int:
    entry = str(req.get("entry") or "")
    if not entry.startswith(ENTRY_PACKAGE):
        raise ValueError(f"not a scheduler entry of ours: {entry!r}")
    scheduler = importlib.import_module(entry)
    _become(req, req["cwd"], base_path)
    sys.argv = [scheduler.__file__ or entry, req["run_id"]]
    return int(scheduler.serve(req["settings"], req["run_id"]))


TARGETS: dict[str, Callable[[dict[str, Any], list[str]], int]] = {
    "run": _runner, "schedule": _scheduler,
}


def _fork(req: dict[str, Any], base_path: list[str], fds: tuple[int, ...],
          *sockets: socket.socket) -> int:
    target = TARGETS[req["op"]]

    def child() -> int:
        for s in sockets:
            s.close()
        for fd in fds:
            os.close(fd)
        return target(req, base_path)

    return fork_into(child)


class _Spare:
    """A child forked ahead of the next request, waiting on a pipe for it: a run (or a
    scheduler) starts without waiting for the fork of this big process (tens of ms on a busy
    machine, paid by every step of a pipeline chain). It exits when this server does (the
    pipe's end), and is made again after each request it took, off the requester's path."""

    def __init__(self, base_path: list[str], fds: tuple[int, ...], srv: socket.socket):
        read_end, self._write_end = os.pipe()

        def child() -> int:
            srv.close()
            for fd in (*fds, self._write_end):
                os.close(fd)
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            if not data:  # the server went away without a request
                return 0
            req = json.loads(data)
            return TARGETS[req["op"]](req, base_path)

        try:
            self.pid = fork_into(child)
        except OSError:  # no process to spare: no pipe left open either
            os.close(self._write_end)
            raise
        finally:
            os.close(read_end)

    def take(self, req: dict[str, Any]) -> int | None:
        """Hand it the request: its pid, or None if it is gone (fork one instead)."""
        write_end, self._write_end = self._write_end, -1
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(json.dumps(req).encode())
        except OSError:
            return None
        return self.pid

    def fds(self) -> tuple[int, ...]:
        """What a child forked directly must close (or this spare never sees the pipe end)."""
        return () if self._write_end < 0 else (self._write_end,)

    def close(self) -> None:
        if self._write_end >= 0:
            os.close(self._write_end)
            self._write_end = -1


def _spare(base_path: list[str], fds: tuple[int, ...], srv: socket.socket) -> _Spare | None:
    try:
        return _Spare(base_path, fds, srv)
    except OSError:  # no process or pipe to spare now: requests fork as they come
        return None


def _bind(path: str) -> socket.socket | None:
    """Listen on ``path`` unless another server already answers there."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return None  # a live server
    except OSError:
        pass
    finally:
        probe.close()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        srv.bind(path)
    finally:
        os.umask(old)
    srv.listen(64)
    return srv


def _watch(owner: int) -> int | None:
    """A pidfd of ``owner`` (readable once it exited), or None where there is none."""
    try:
        return os.pidfd_open(owner)
    except (AttributeError, OSError):  # not Linux, or a kernel older than 5.3
        return None


def _owner_gone(owner: int | None, pidfd: int | None) -> bool:
    if owner is None:
        return False
    if pidfd is not None and select.select([pidfd], [], [], 0)[0]:
        return True
    return os.getppid() != owner  # reparented: the owner is gone


def serve(path: str, idle: float, owner: int | None = None) -> int:
    pidfd = _watch(owner) if owner is not None else None
    if _owner_gone(owner, pidfd):  # killed before this process even started
        return 0
    _preload()  # before listening: a client never waits for the imports
    changes = ModuleChanges(_module_times())  # inotify where it can: a check costs ~nothing
    # the preloaded objects move to a generation the collector never walks: a forked child's
    # collections do not touch (and so copy) the pages they live on
    gc.collect()
    gc.freeze()
    srv = _bind(path)
    if srv is None:
        print(f"warm runner: another server answers on {path}", flush=True)
        return 0
    inode = os.stat(path).st_ino
    base_path = sys.path[1:]  # without this process's own working directory
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked runners are reaped by the kernel
    srv.settimeout(1.0)
    print(f"warm runner {os.getpid()}: ready on {path}"
          + (f", exits with process {owner}" if owner is not None else ""), flush=True)
    last = time.monotonic()
    waits: list[Any] = [srv] if pidfd is None else [srv, pidfd]
    fds = tuple(fd for fd in (pidfd, changes.fileno()) if fd is not None)
    spare: _Spare | None = None
    try:
        while True:
            spare = spare or _spare(base_path, fds, srv)  # after a reply: off the client's path
            ready = select.select(waits, [], [], 1.0)[0]
            if _owner_gone(owner, pidfd):
                print(f"warm runner: its owner {owner} is gone; exiting", flush=True)
                return 0
            conn = None
            if srv in ready:
                try:
                    conn, _ = srv.accept()
                except (TimeoutError, BlockingIOError):
                    pass
            if conn is None:
                try:
                    moved = os.stat(path).st_ino != inode
                except OSError:
                    moved = True
                if moved or time.monotonic() - last > idle:
                    return 0
                continue
            last = time.monotonic()
            with conn:
                conn.settimeout(5.0)
                try:
                    req = read_message(conn)
                except (OSError, ValueError):
                    continue
                op = req.get("op")
                if op == "ping":
                    _reply(conn, {"pid": os.getpid()})
                elif op == "stop":
                    _reply(conn, {"stopped": os.getpid()})
                    return 0
                elif op in TARGETS:
                    if not same_pythonpath((req.get("env") or {}).get("PYTHONPATH"),
                                           os.environ.get("PYTHONPATH")):
                        _reply(conn, {"cold": "PYTHONPATH differs from the warm runner's"})
                        continue  # sys.path was made from it at start: that run starts cold
                    changed = changes.changed()
                    if changed:
                        _reply(conn, {"stale": True})
                        print(f"warm runner: a preloaded module changed on disk ({changed}); "
                              "exiting", flush=True)
                        return 0
                    try:
                        pid = spare.take(req) if spare is not None else None
                        if pid is None:
                            pid = _fork(req, base_path, fds + (spare.fds() if spare else ()),
                                        srv, conn)
                        spare = None  # taken (or broken): a new one after this reply
                    except (OSError, KeyError) as exc:
                        _reply(conn, {"error": str(exc)})
                        continue
                    _reply(conn, {"pid": pid})
    finally:
        srv.close()
        changes.close()
        if spare is not None:
            spare.close()  # it reads the end of its pipe and exits
        if pidfd is not None:
            os.close(pidfd)
        try:
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], float(sys.argv[2]),
                   int(sys.argv[3]) if len(sys.argv) > 3 else None))
