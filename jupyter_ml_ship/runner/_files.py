"""Files under the home: written atomically (temp file, fsync, rename) so a crash never leaves half a file."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def create_new(path: Path) -> bool:
    """Create an empty ``path`` (mode 0600) if it does not exist: whether this call created it.
    ``O_EXCL``: of processes racing for one name, exactly one gets True (a claim)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    return True


def atomic_write_bytes(path: str | Path, data: bytes, durable: bool = True) -> None:
    """Write ``path`` whole or not at all; ``durable=False`` skips the fsync, for hand-offs
    between processes that a machine crash makes moot anyway (a run's spec for its runner)."""
    path = Path(path)
    made = None if path.parent.is_dir() else _make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        _undo_dirs(made)
        raise with_filename(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        _undo_dirs(made)
        if isinstance(exc, OSError):
            raise with_filename(exc, path) from None
        raise


def _make_dirs(folder: Path) -> Path:
    """Make ``folder`` (and missing parents); the topmost one made, to undo on failure."""
    top = folder
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    folder.mkdir(parents=True, exist_ok=True)
    return top


def _undo_dirs(top: Path | None) -> None:
    """Remove the empty folders a failed write made (a full disk leaves no empty folders)."""
    if top is None:
        return
    for folder in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty: another writer's
    try:
        top.rmdir()
    except OSError:
        pass


def with_filename(exc: OSError, path: Path) -> OSError:
    """The error with the file it was about (a write error names none), for messages."""
    if exc.filename is None and exc.errno is not None:
        return OSError(exc.errno, exc.strerror or str(exc), str(path))
    return exc


def atomic_write_text(path: str | Path, text: str, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def atomic_write_json(path: str | Path, data: Any, durable: bool = True) -> None:
    atomic_write_text(path, json.dumps(data, indent=1, default=str), durable)


def read_json(path: str | Path) -> Any | None:
    """The JSON in a file, or None when it does not exist (yet) or is unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, ValueError):
        return None


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """Yields whether this process holds the exclusive lock ``path`` now (never waits): one
    process at a time does what it guards, the others skip it this time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
