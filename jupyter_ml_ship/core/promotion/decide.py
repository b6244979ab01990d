"""The verdict on a candidate when its validation run ends: promoted, or rejected and why.

Failed (or timed out, cancelled) → rejected with the run's error (the cell that raised: a
``test`` cell's failed assertion names itself); degraded → rejected naming the failed checks;
a ``not_worse`` output worse than the median of the current version's last healthy runs by more
than its tolerance → rejected with both values; otherwise promoted.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, select

from ...store import Run
from ..checks import failing
from .spec import RECENT, NotWorse, PromoteSpec

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class Verdict:
    promoted: bool
    reason: str


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def verdict(s: Session, run: Run, spec: PromoteSpec, current_version_id: int | None,
            current_number: int | None) -> Verdict:
    """What the ended validation run ``run`` says about its version."""
    if run.status != "succeeded":
        error = (run.error or {}).get("message") or (run.error or {}).get("ename") or ""
        return Verdict(False, f"validation run {run.id} {run.status.replace('_', ' ')}"
                              + (f": {error}" if error else ""))
    if run.health == "degraded":
        return Verdict(False, f"validation run {run.id}: its checks failed: "
                              + "; ".join(failing(run.checks or [])))
    compared: list[str] = []
    for rule in spec.not_worse:
        ok, text = _compare(s, run, rule, current_version_id, current_number)
        if not ok:
            return Verdict(False, f"validation run {run.id}: {text}")
        compared.append(text)
    return Verdict(True, f"validation run {run.id} succeeded" + (
        " and its checks held" if run.checks else "") + "".join(f"; {t}" for t in compared))


def _compare(s: Session, run: Run, rule: NotWorse, current_version_id: int | None,
             current_number: int | None) -> tuple[bool, str]:
    raw: Any = (run.outputs or {}).get(rule.output)
    if not _number(raw):
        return False, f"it recorded no number {rule.output} to compare (not_worse)"
    value = float(raw)
    if current_version_id is None:
        return True, f"{rule.output} {value:g}: no current version to compare with"
    values = recent_values(s, current_version_id, rule.output, RECENT)
    if not values:
        return True, (f"{rule.output} {value:g}: no healthy run of v{current_number} recorded "
                      "it, not compared")
    base = float(statistics.median(values))
    of = (f"v{current_number}'s {base:g} (median of its last {len(values)} healthy "
          f"run{'s' if len(values) > 1 else ''})")
    worse = base - value if rule.direction == "drop" else value - base
    if worse > rule.tolerance + 1e-12:
        way = "below" if rule.direction == "drop" else "above"
        return False, (f"{rule.output} {value:g} is {worse:g} {way} {of}, more than the "
                       f"tolerance {rule.tolerance:g} (not_worse)")
    return True, f"{rule.output} {value:g} against {of}, tolerance {rule.tolerance:g}"


def recent_values(s: Session, version_id: int, output: str, wanted: int) -> list[float]:
    """``output`` of the newest healthy succeeded runs of a version (at most ``wanted``)."""
    rows = s.execute(select(cast(Run.outputs, Text)).where(
        Run.version_id == version_id, Run.status == "succeeded", Run.health == "healthy")
        .order_by(Run.id.desc()).limit(200)).all()
    out: list[float] = []
    for (text,) in rows:
        value: Any = ((json.loads(text) if text else None) or {}).get(output)
        if _number(value):
            out.append(float(value))
            if len(out) >= wanted:
                break
    return out
