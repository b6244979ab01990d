"""Persistence: SQLAlchemy store (SQLite WAL by default, PostgreSQL by URL) and atomic files."""

from .db import HEAD_REVISION, Store
from .schema import Event, Job, Run, Version

__all__ = ["Store", "HEAD_REVISION", "Job", "Version", "Run", "Event"]
