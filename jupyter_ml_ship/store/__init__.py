"""Persistence: SQLAlchemy store (SQLite WAL by default, PostgreSQL by URL) and atomic files.

Names are imported lazily so that ``jupyter_ml_ship.store.files`` (used by the runner inside a
container image) does not pull in SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .db import HEAD_REVISION, Store
    from .schema import Event, Job, Run, Version

_LAZY = {"Store": ".db", "HEAD_REVISION": ".db", "Job": ".schema", "Version": ".schema",
         "Run": ".schema", "Event": ".schema"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Store", "HEAD_REVISION", "Job", "Version", "Run", "Event"]
