"""Errors raised by the service.

Every error the service raises on purpose is a ``ShipError``; its ``code`` and ``http_status``
let the CLI (exit 2, one line) and the server (``{"error", "message"}``) report it the same way.

    ShipError
    ├── BadInput          400  something the caller sent is wrong (the message says what and where)
    │   └── InvalidPipeline    a pipeline file that parses but does not validate (+ its steps)
    ├── Forbidden         403  the user may not do that here (the message says who may)
    ├── NotFound          404  unknown job, version, run or pipeline
    ├── Conflict          409  the request does not fit the current state
    ├── TooLarge          413  a payload over the configured limit
    ├── BackendUnavailable 503 a backend that is not installed, not running or unreachable
    └── InsufficientStorage 507 the disk (or quota) under the home or the store is full

``storage_error`` is the one place that recognises a full disk, whatever raised it: an
``OSError`` ENOSPC/EDQUOT, SQLite's "database or disk is full", PostgreSQL's disk_full, also
wrapped (SQLAlchemy, ``raise … from``). The faces call it on errors that are no ``ShipError``;
core calls it (``storage_errors()``) where a half-done step must be undone first.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class ShipError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(ShipError):
    code = "bad_request"
    http_status = 400


class InvalidPipeline(BadInput):
    """A pipeline file that parses but does not validate; ``steps`` is what it says (each a
    ``StepInfo`` as JSON), so an editor can still draw the graph next to the message."""

    def __init__(self, message: str, steps: list[dict[str, Any]]):
        super().__init__(message)
        self.steps = steps


class Forbidden(ShipError):
    """Team mode: the acting user is neither an owner nor an admin (``core.access``)."""

    code = "forbidden"
    http_status = 403


class NotFound(ShipError):
    code = "not_found"
    http_status = 404


class Conflict(ShipError):
    code = "conflict"
    http_status = 409


class TooLarge(ShipError):
    code = "too_large"
    http_status = 413


class BackendUnavailable(ShipError):
    code = "unavailable"
    http_status = 503


class InsufficientStorage(ShipError):
    """No space left where ml-ship writes (the home, the run's folder, the store)."""

    code = "insufficient_storage"
    http_status = 507


#: errno values of a full disk or an exhausted quota
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_SQLITE_FULL = 13  # SQLITE_FULL (extended codes keep it in the low byte)


def space_left(path: str | Path) -> tuple[str, int | None]:
    """The mount point holding ``path`` (or its nearest existing folder) and the MB free there
    for an unprivileged writer (None when it cannot be measured)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    mount = p if p.is_dir() else p.parent
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    try:
        st = os.statvfs(p)
    except OSError:
        return str(mount), None
    return str(mount), st.f_bavail * st.f_frsize // (1 << 20)


def no_space_message(path: str | Path | None, what: str = "") -> str:
    """``no space left on /data (0 MB free) writing /data/ml_ship/runs/…; free some space…``"""
    if path is None:
        return (f"no space left on the device{' ' + what if what else ''}; free some space "
                "and try again")
    mount, free = space_left(path)
    free_text = f" ({free} MB free)" if free is not None else ""
    doing = f" {what}" if what else f" writing {path}"
    return f"no space left on {mount}{free_text}{doing}; free some space and try again"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        orig = getattr(e, "orig", None)  # SQLAlchemy's DBAPIError: the driver's error
        todo += [orig if isinstance(orig, BaseException) else None, e.__cause__, e.__context__]


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the disk or quota is full."""
    return any(_full_reason(e) for e in _chain(exc))


def _full_reason(e: BaseException) -> bool:
    if isinstance(e, InsufficientStorage):
        return True
    if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
        return True
    code = getattr(e, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == _SQLITE_FULL:
        return True
    if getattr(e, "pgcode", None) == "53100" or getattr(e, "sqlstate", None) == "53100":
        return True  # PostgreSQL disk_full
    return type(e).__name__ == "OperationalError" and "database or disk is full" in str(e)


def storage_error(exc: BaseException, path: str | Path | None = None,
                  what: str = "") -> InsufficientStorage | None:
    """The ``InsufficientStorage`` that a full disk behind ``exc`` means, or None. ``path``:
    where the write went when the error does not say (a database file)."""
    for e in _chain(exc):
        if isinstance(e, InsufficientStorage):
            return e
        if _full_reason(e):
            where = getattr(e, "filename", None) if isinstance(e, OSError) else None
            return InsufficientStorage(no_space_message(where or path, what))
    return None


@contextmanager
def storage_errors(path: str | Path | None = None, what: str = "") -> Iterator[None]:
    """Turn a full disk inside the block into ``InsufficientStorage`` (other errors pass)."""
    try:
        yield
    except ShipError:
        raise
    except Exception as exc:
        mapped = storage_error(exc, path, what)
        if mapped is None:
            raise
        raise mapped from exc


__all__ = ["ShipError", "BadInput", "Forbidden", "NotFound", "Conflict", "TooLarge",
           "BackendUnavailable", "InsufficientStorage", "is_disk_full", "no_space_message",
           "space_left", "storage_error", "storage_errors"]
