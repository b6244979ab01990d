"""Store rows by name, with the ``NotFound`` a user reads, the ids new rows get, and what a
row records of why it changed.

Plain queries on a session: the service and the helpers under it (engine, history,
notifications) share them, so a helper needs no service (and no mixin) to read them.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..store import Job, Run, Version


def new_run_id() -> str:
    """Sortable by creation time: milliseconds in hex, then randomness."""
    return f"{int(time.time() * 1000):011x}{secrets.token_hex(3)}"


def job_row(s: Session, name: str) -> Job:
    job = s.scalars(select(Job).where(Job.name == name)).first()
    if job is None:
        raise NotFound(f"no job named {name!r}")
    return job


def job_version_row(s: Session, name: str, number: int | None) -> Version:
    """A job's version ``number`` (None: its current one)."""
    job = job_row(s, name)
    if number is None and job.current_version is None:
        state = s.execute(select(Version.number, Version.promotion).where(
            Version.job_id == job.id).order_by(Version.number.desc())).first()
        raise NotFound(f"job {name!r} has no current version yet" + (
            f" (v{state[0]} is {state[1]}: see `ml-ship versions {name}`)" if state else ""))
    number = job.current_version if number is None else number
    version = s.scalars(
        select(Version).where(Version.job_id == job.id, Version.number == number)
    ).first()
    if version is None:
        latest = s.scalar(select(func.max(Version.number)).where(Version.job_id == job.id))
        raise NotFound(f"job {name!r} has no version {number} (versions 1 to {latest})")
    return version


def run_row(s: Session, run_id: str) -> Run:
    row = s.get(Run, run_id)
    if row is None:
        raise NotFound(f"no run with id {run_id!r}")
    return row


def version_event_reason(s: Session, run_id: str, event: str) -> str:
    """Why a version was promoted, rejected or rolled back (for the notification of ``event``
    about the run that decided it: ``core.promotion`` records it on the version)."""
    v = s.scalar(select(Version).join(Run, Run.version_id == Version.id)
                 .where(Run.id == run_id))
    if v is None:
        return ""
    if event == "rolled_back":
        return str((v.auto_rollback or {}).get("reason") or "")
    return v.promotion_reason or ""
