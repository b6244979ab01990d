"""A Jupyter server with this extension announces itself in the home it serves, so that the
``ml-ship`` command on the same machine can hand it a run instead of starting the whole
service in a fresh process (#26: ``ml-ship run --wait`` pays for SQLAlchemy, pydantic and the
store before its first byte of work; the server has them warm, with its warm runner).

``<home>/servers/<pid>.json`` holds the server's URL, its token and its store's URL (password
hidden), readable by its owner only — the way Jupyter's own ``jpserver-<pid>.json`` runtime
files are. A file whose process is gone is ignored (and removed). Standard library only: the
command reads it before importing anything heavy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FOLDER = "servers"


def announce(home: Path, url: str, token: str, store: str) -> Path:
    """Write this process's announcement (0600, atomically); returns its path."""
    folder = Path(home) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"pid": os.getpid(), "url": url, "token": token, "store": store}, fh)
    os.replace(tmp, path)
    return path


def withdraw(home: Path) -> None:
    """Remove this process's announcement (the server stops)."""
    try:
        (Path(home) / FOLDER / f"{os.getpid()}.json").unlink()
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process reuses the pid
        return False
    return True


def find(home: Path) -> dict[str, Any] | None:
    """A live server announced in ``home`` (``pid``, ``url``, ``token``, ``store``), or None."""
    folder = Path(home) / FOLDER
    try:
        entries = sorted(folder.glob("*.json"))
    except OSError:
        return None
    for path in entries:
        try:
            info = json.loads(path.read_text())
            pid = int(info["pid"])
            str(info["url"]), str(info["token"]), str(info["store"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(pid):
            return dict(info)
        try:  # a server that was killed: its file stays behind
            path.unlink()
        except OSError:
            pass
    return None
