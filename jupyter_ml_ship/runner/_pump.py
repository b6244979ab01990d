"""The runner's output, on its way to the run's log, through one small pump process.

The runner's file descriptors 1 and 2 become a pipe before anything runs, so everything a run
prints reaches the log through the pump: the runner's own lines, the cell output papermill
relays, and what the kernel and its children write straight to their descriptors. The pump

- masks the run's secrets (``_mask``), also when one is split across two writes, and
- keeps going when the log's disk is full: the text that could not be written is counted and,
  once space is back, one line says how much was lost (the run is not killed by its log).

It is a forked process, not a thread: the runner forks its first kernel (warm runner) and must
stay single-threaded until then. It ignores SIGINT/SIGTERM (a cancel stops the runner, which
reports) and ends when the last writer closes the pipe.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import sys
import time

from ._fork import fork_into
from ._mask import Masker, StreamMasker

#: a partial line (a prompt, a progress bar) shows after this long without more output
IDLE_FLUSH = 0.2
_FULL = (errno.ENOSPC, errno.EDQUOT)


class _Sink:
    """Writes to the log; drops (and counts) what a full disk refuses."""

    def __init__(self, fd: int):
        self.fd = fd
        self.lost = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.lost:
            note = (f"\n[ml-ship] {self.lost} bytes of output were lost: no space left on the "
                    "log's disk\n").encode()
            if self._put(note):
                self.lost += len(data)
                return
            self.lost = 0
        self.lost += self._put(data)

    def _put(self, data: bytes) -> int:
        """Write ``data``; how many bytes of it a full disk refused."""
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except InterruptedError:
                continue
            except OSError as exc:
                # a full disk: dropped; a closed log (EPIPE): nobody reads it, nothing to keep
                return len(view) if exc.errno in _FULL else 0
            view = view[n:]
        return 0


def _pump(read_fd: int, masker: Masker) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    stream, sink = StreamMasker(masker), _Sink(1)
    while True:
        ready, _, _ = select.select([read_fd], [], [], IDLE_FLUSH)
        if not ready:
            sink.write(stream.flush())
            continue
        try:
            data = os.read(read_fd, 1 << 16)
        except InterruptedError:
            continue
        if not data:
            break
        sink.write(stream.feed(data))
    sink.write(stream.close())
    return 0


class OutputPump:
    """``start()`` routes this process's stdout and stderr through the pump; ``stop()`` gives
    them back once everything written so far is in the log."""

    def __init__(self, masker: Masker):
        self.masker = masker
        self.pid: int | None = None
        self._saved: tuple[int, int] | None = None

    def start(self) -> OutputPump:
        read_fd, write_fd = os.pipe()

        def body() -> int:
            os.close(write_fd)
            return _pump(read_fd, self.masker)

        self.pid = fork_into(body)  # flushes sys.stdout/sys.stderr first
        os.close(read_fd)
        self._saved = (os.dup(1), os.dup(2))
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Give fds 1 and 2 back and wait (at most ``timeout`` s) for the pump to write what
        it holds; a child of the run still holding the pipe keeps its pump going."""
        if self._saved is None or self.pid is None:
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        out, err = self._saved
        self._saved = None
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        _wait(self.pid, timeout)


def _wait(pid: int, timeout: float) -> None:
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    try:
        if fd is not None:
            select.select([fd], [], [], timeout)
        else:  # pragma: no cover - kernels before Linux 5.3
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
                time.sleep(0.01)
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    finally:
        if fd is not None:
            os.close(fd)
