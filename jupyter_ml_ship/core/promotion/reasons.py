"""Why a version's promotion state changed, as recorded (read by the notifications, which tell
of a promoted, rejected or rolled back version). A leaf: it imports the store only, so the
notifications read it without importing the promotion mixin (and the service behind it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...store import Run, Version


def version_event_reason(s: Session, run_id: str, event: str) -> str:
    """Why a version was promoted, rejected or rolled back (for the notification of ``event``
    about the run that decided it)."""
    v = s.scalar(select(Version).join(Run, Run.version_id == Version.id)
                 .where(Run.id == run_id))
    if v is None:
        return ""
    if event == "rolled_back":
        return str((v.auto_rollback or {}).get("reason") or "")
    return v.promotion_reason or ""
