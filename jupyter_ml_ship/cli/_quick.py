"""Read-only listings straight from a SQLite store, for a CLI that starts in a blink.

``ml-ship jobs`` through the service imports SQLAlchemy, the pydantic models and traitlets
(about 0.5 s before any work) to print a table it could read with three queries. Here the
standard library's ``sqlite3`` opens the store read-only and fills the same table. It answers
only when that is safe: a local SQLite file already migrated to the newest revision (the
newest file of ``store/migrations/versions``), no ``--url``; otherwise it returns None and the
command takes the service's path, which migrates, reaches PostgreSQL or a remote server.
``tests/python/test_cli_start.py`` checks both paths print the same table.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

_VERSIONS = Path(__file__).resolve().parents[1] / "store" / "migrations" / "versions"


class JobRow(NamedTuple):
    """What ``ml-ship jobs`` prints of one job (the names of ``JobInfo``'s fields)."""

    name: str
    owner: str
    owners: list[str]
    current_version: int | None
    latest_version: int | None
    last_run_id: str | None
    last_run_status: str | None
    updated_at: datetime | None
    schedule_error: str | None


def _sqlite_file() -> Path | None:
    """The store's SQLite file as ``MlShip`` would find it (None: another database, a remote
    server, or no store yet)."""
    if os.environ.get("ML_SHIP_URL", "").strip():
        return None
    url = os.environ.get("ML_SHIP_DB_URL", "")
    if url:
        if not url.startswith("sqlite:///") or "?" in url:
            return None
        path = Path(url[len("sqlite:///"):])
    else:
        path = home() / "ml_ship.db"
    return path if path.is_file() else None


def home() -> Path:
    """The home as ``MlShip().home_path`` finds it (env ML_SHIP_HOME, or the Jupyter data
    dir's ``ml_ship``), without importing traitlets."""
    found = os.environ.get("ML_SHIP_HOME", "")
    if not found:
        from jupyter_core.paths import jupyter_data_dir

        found = str(Path(jupyter_data_dir()) / "ml_ship")
    return Path(found).expanduser()


def _head_revision() -> str:
    return max(p.name.split("_", 1)[0] for p in _VERSIONS.glob("[0-9]*_*.py"))


def _utc(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _schedule_error(config: dict[str, Any], edit: tuple[Any, ...] | None) -> str | None:
    """Why the schedule in effect never fires (``core.schedules.effective`` + ``next_tick``)."""
    shipped = config.get("schedule")
    schedule, tz = shipped, "UTC"
    if edit is not None:
        cron, base, zone = edit
        schedule = cron if cron is not None and base == shipped else shipped
        tz = zone or "UTC"
    if not schedule:
        return None
    from ..cron import next_fire
    from ..errors import BadInput

    try:
        next_fire(schedule, None, tz)
    except BadInput as exc:
        return exc.message
    return None


def jobs() -> list[JobRow] | None:
    """Every job for the ``ml-ship jobs`` table, by name; None: ask the service."""
    import json

    path = _sqlite_file()
    if path is None:
        return None
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return None
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision is None or revision[0] != _head_revision():
            return None
        rows = conn.execute(
            "SELECT j.name, j.owner, j.current_version, j.updated_at, "
            "(SELECT max(number) FROM versions WHERE job_id = j.id), "
            "(SELECT config FROM versions WHERE job_id = j.id AND number = j.current_version), "
            "r.id, r.status FROM jobs j LEFT JOIN runs r ON r.id = "
            "(SELECT max(id) FROM runs WHERE job_id = j.id) ORDER BY j.name").fetchall()
        edits = {name: (cron, base, zone) for name, cron, base, zone in conn.execute(
            "SELECT name, cron, base, timezone FROM schedules WHERE kind = 'job'")}
    except sqlite3.Error:  # an older or newer schema, a locked file: the service knows
        return None
    finally:
        conn.close()
    out = []
    for name, owner, current, updated, latest, config_text, run_id, status in rows:
        config = json.loads(config_text) if config_text else None
        config = config if isinstance(config, dict) else {}
        raw = config.get("owners") or []
        out.append(JobRow(
            name=name, owner=owner or "",
            owners=[raw] if isinstance(raw, str) else [str(g) for g in raw],
            current_version=current, latest_version=latest, last_run_id=run_id,
            last_run_status=status, updated_at=_utc(updated),
            schedule_error=_schedule_error(config, edits.get(name))))
    return out
