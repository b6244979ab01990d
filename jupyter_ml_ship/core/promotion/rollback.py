"""Automatic roll back (``rollback_on: {degraded: N}``), decided when a run ends.

The current version goes back to the last version whose runs were healthy when its own last N
ended runs (any kind: scheduled, by hand, pipeline steps; cancelled ones do not count) were all
degraded or failed, and such a version exists (it was made current after a healthy one). Never
twice for one version (``versions.auto_rollback`` is set, and the pointer moves only while it
is still that version), never to a version that was itself rolled back so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ...store import Run, Version
from ..checks import failing
from .spec import rollback_on_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ENDED = ("succeeded", "failed", "timed_out")
#: states of a version that never was good to go back to
NOT_A_TARGET = ("candidate", "validating", "rejected")


@dataclass
class RollbackPlan:
    to: int
    runs: list[str]
    reason: str


def _bad(run: Run) -> bool:
    return run.status in ("failed", "timed_out") or run.health == "degraded"


def _what(run: Run) -> str:
    if run.status != "succeeded":
        message = (run.error or {}).get("message") or run.status
        return f"run {run.id} {run.status.replace('_', ' ')}: {message}"
    return f"run {run.id} degraded: " + "; ".join(failing(run.checks or []))


def plan_rollback(s: Session, v: Version, current: int | None) -> RollbackPlan | None:
    """Whether ``v`` (whose run just ended) is to be rolled back now, and to what."""
    n = rollback_on_of(v.config)
    if not n or current != v.number or v.auto_rollback:
        return None
    last = list(s.scalars(select(Run).where(Run.version_id == v.id, Run.status.in_(ENDED))
                          .order_by(Run.id.desc()).limit(n)))
    if len(last) < n or not all(_bad(r) for r in last):
        return None
    target = _last_healthy_version(s, v)
    if target is None:
        return None
    what = "run" if n == 1 else f"{n} runs in a row"
    reason = (f"v{v.number} rolled back to v{target} after {what} degraded or failed "
              f"(rollback_on.degraded: {n}): " + "; ".join(_what(r) for r in reversed(last)))
    return RollbackPlan(target, [r.id for r in reversed(last)], reason[:4000])


def _last_healthy_version(s: Session, v: Version) -> int | None:
    """The version of the job's newest healthy succeeded run that may be gone back to."""
    q = (select(Version.number, Version.promotion, Version.auto_rollback)
         .join(Run, Run.version_id == Version.id)
         .where(Run.job_id == v.job_id, Run.version_id != v.id, Run.status == "succeeded",
                Run.health == "healthy")
         .order_by(Run.id.desc()).limit(500))
    for number, promotion, rolled in s.execute(q):
        if promotion in NOT_A_TARGET or _set(rolled):
            continue
        return int(number)
    return None


def _set(value: Any) -> bool:
    return bool(value)
