"""Whether a module the warm runner preloaded changed on disk, told cheaply at each request.

Walking every preloaded file with ``os.stat`` (about 1,300 of them) costs 10–30 ms, and a
pipeline chain pays it at each step's start. On Linux the folders of those files are watched
with inotify instead: a change to one of them (an edit, ``touch``, an upgrade that replaces or
removes it) queues an event, and the check at a request only reads what is queued (no system
call beyond one non-blocking ``read``). Where inotify is missing or out of watches, the check
falls back to the ``stat`` walk, at most every ``STAT_INTERVAL`` seconds, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import time

#: the ``stat`` fallback checks at most this often (a pipeline layer's starts share one check)
STAT_INTERVAL = 0.5
# <sys/inotify.h>
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW = 0x400, 0x800, 0x4000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
         | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF)
_IN_NONBLOCK, _IN_CLOEXEC = 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1, libc.inotify_add_watch  # noqa: B018  (present: Linux)
        return libc
    except (OSError, AttributeError):
        return None


class ModuleChanges:
    """The preloaded files (``{path: mtime}``) and a cheap ``changed()`` over them."""

    def __init__(self, times: dict[str, float]):
        self.times = times
        self._checked = 0.0
        self._changed_on_disk: str | None = None
        self._fd: int | None = None
        self._watched: dict[int, str] = {}  # watch descriptor -> folder
        self._names: dict[str, set[str]] = {}  # folder -> file names preloaded from it
        for path in times:
            folder, name = os.path.split(path)
            self._names.setdefault(folder, set()).add(name)
        libc = _libc()
        if libc is not None:
            self._watch(libc)

    def _watch(self, libc: ctypes.CDLL) -> None:
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return
        for folder in self._names:
            wd = libc.inotify_add_watch(fd, os.fsencode(folder), _MASK)
            if wd < 0:  # out of watches (or a folder gone): the stat walk instead
                os.close(fd)
                self._watched.clear()
                return
            self._watched[wd] = folder
        self._fd = fd
        # a change between the import and the first watch: caught by one walk now
        self._changed_on_disk = self._walk()

    @property
    def watching(self) -> bool:
        """Whether inotify watches the files (else each check may walk them)."""
        return self._fd is not None

    def fileno(self) -> int | None:
        """The inotify descriptor (a forked child closes it), or None."""
        return self._fd

    def changed(self) -> str | None:
        """The path of a preloaded module that changed on disk, if one did."""
        if self._fd is None:
            if time.monotonic() - self._checked < STAT_INTERVAL:
                return None
            self._checked = time.monotonic()
            return self._walk()
        if self._changed_on_disk:
            return self._changed_on_disk
        try:
            data = os.read(self._fd, 1 << 16)
        except BlockingIOError:
            return None
        except OSError:  # should not happen; be safe: the walk says
            return self._walk()
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size:offset + _EVENT.size + size].rstrip(b"\0")
            offset += _EVENT.size + size
            folder = self._watched.get(wd)
            if mask & _IN_Q_OVERFLOW:
                self._changed_on_disk = self._walk()
            elif folder is not None and mask & (_IN_DELETE_SELF | _IN_MOVE_SELF):
                self._changed_on_disk = folder
            elif folder is not None and os.fsdecode(name) in self._names[folder]:
                path = os.path.join(folder, os.fsdecode(name))
                if self._differs(path):  # an event with the same mtime after it: unchanged
                    self._changed_on_disk = path
            if self._changed_on_disk:
                return self._changed_on_disk
        return None

    def _differs(self, path: str) -> bool:
        try:
            return os.stat(path).st_mtime != self.times[path]
        except OSError:
            return True

    def _walk(self) -> str | None:
        return next((path for path in self.times if self._differs(path)), None)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
