"""Waiting for a step's run to end: the first of some ``result.json`` files to appear.

On Linux the scheduler watches the runs' folders with inotify and sleeps in ``select`` until one
of them gets a file (the runner writes ``result.json`` by a rename into its folder), so a chain's
next step is started a fraction of a millisecond after its upstream ended, with no polling.
Elsewhere, or out of inotify watches, it checks the files every ``POLL`` seconds.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from pathlib import Path

from ...runner._changes import (
    _IN_CLOEXEC,
    _IN_CLOSE_WRITE,
    _IN_CREATE,
    _IN_MOVED_TO,
    _IN_NONBLOCK,
    _libc,
)

#: seconds between checks without inotify (and between ``stop()`` checks with it)
POLL = 0.01
STOP_EVERY = 0.05


class ResultWatch:
    """Waits for one of a changing set of files (each in its own folder) to exist."""

    def __init__(self) -> None:
        self._libc = _libc()
        self._fd: int | None = None
        self._folders: dict[str, int] = {}  # folder -> watch descriptor
        if self._libc is not None:
            fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            self._fd = fd if fd >= 0 else None

    def wait(self, files: dict[str, Path], until: float,
             stop: Callable[[], bool] | None = None) -> set[str] | None:
        """The keys of ``files`` that exist, as soon as one does; an empty set at ``until``
        (monotonic); None when ``stop()`` said so."""
        polling = not self._watch({str(p.parent) for p in files.values()})
        while True:
            ended = {key for key, path in files.items() if path.exists()}
            if ended:
                return ended
            if stop and stop():
                return None
            left = until - time.monotonic()
            if left <= 0:
                return set()
            if polling or self._fd is None:
                time.sleep(min(POLL, left))
                continue
            ready, _, _ = select.select([self._fd], [], [],
                                        min(left, STOP_EVERY) if stop else left)
            if ready:
                self._drain()

    def _watch(self, folders: set[str]) -> bool:
        """Watch exactly ``folders``; False when some cannot be watched (then: poll)."""
        if self._fd is None or self._libc is None:
            return False
        for folder in set(self._folders) - folders:
            self._libc.inotify_rm_watch(self._fd, self._folders.pop(folder))
        for folder in folders - set(self._folders):
            wd = self._libc.inotify_add_watch(  # a file written, moved or created in it
                self._fd, os.fsencode(folder), _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE)
            if wd < 0:  # the folder not there (yet), or out of watches
                return False
            self._folders[folder] = wd
        return True

    def _drain(self) -> None:
        assert self._fd is not None
        try:
            while os.read(self._fd, 1 << 16):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._folders.clear()
