"""A job's health: each checked output over its recent succeeded runs, the latest verdict and
counts (``GET /jobs/{name}/health``, ``ml-ship health``).

One grouped count over all the job's runs and one column query over the recent succeeded ones
(their checks as JSON text decoded in one ``json.loads``): thousands of runs in milliseconds.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, func, select

from ...errors import BadInput
from ...models import HealthCounts, HealthPoint, JobHealth, OutputHealth
from ...store import Run, Version
from ..rows import job_row
from .spec import checks_of

if TYPE_CHECKING:
    from ..context import ShipContext

DEFAULT_LIMIT = 100
MAX_LIMIT = 5000


def job_health(svc: ShipContext, job: str, limit: int = DEFAULT_LIMIT) -> JobHealth:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    with svc.store.session() as s:
        j = job_row(s, job)
        grouped = s.execute(select(Run.status, Run.health, func.count())
                            .where(Run.job_id == j.id).group_by(Run.status, Run.health)).all()
        config = s.scalar(select(Version.config).where(
            Version.job_id == j.id, Version.number == j.current_version)) or {}
        rows = s.connection().execute(
            select(Run.id, Run.version_number, cast(Run.ended_at, Text), Run.health,
                   cast(Run.checks, Text))
            .where(Run.job_id == j.id, Run.status == "succeeded")
            .order_by(Run.id.desc()).limit(limit)).all()
        current = j.current_version
    counts = HealthCounts()
    for status, health, n in grouped:
        counts.runs += n
        if status == "succeeded":
            counts.succeeded += n
            if health == "degraded":
                counts.degraded += n
            else:
                counts.healthy += n
        elif status in ("failed", "timed_out"):
            counts.failed += n
        elif status in ("queued", "building", "running"):
            counts.active += n
    decoded = json.loads("[" + ",".join(r[4] or "null" for r in rows) + "]") if rows else []
    spec = checks_of(config)
    rules_of = {name: rules.model_dump(exclude_defaults=True) for name, rules in spec.items()}
    points: dict[str, list[HealthPoint]] = {name: [] for name in spec}
    failed: dict[str, int] = dict.fromkeys(spec, 0)
    for (rid, version, ended, _h, _c), checks in zip(reversed(rows), reversed(decoded)):
        if not checks:
            continue
        at = _utc(ended)
        per: dict[str, list[Any]] = {}  # output -> [value, baseline, passed] of this run
        for c in checks:
            got = per.get(c["name"])
            if got is None:
                per[c["name"]] = [c.get("value"), c.get("baseline"), c["passed"]]
                continue
            if got[0] is None:
                got[0] = c.get("value")
            if got[1] is None:
                got[1] = c.get("baseline")
            got[2] = got[2] and c["passed"]
        for name, (value, baseline, passed) in per.items():
            if name not in points:
                points[name], failed[name] = [], 0
            points[name].append(_point({"run_id": rid, "version": version, "at": at,
                                        "value": value, "baseline": baseline,
                                        "passed": passed}))
            failed[name] += not passed
    first = next((series[0] for series in points.values() if series), None)
    if first is not None:  # a field added to HealthPoint and not set above fails here, once
        assert first.__dict__.keys() == _POINT_FIELDS, sorted(first.__dict__.keys() ^ _POINT_FIELDS)
    outputs = {name: OutputHealth(name=name, rules=rules_of.get(name, {}), failed=failed[name],
                                  points=series) for name, series in points.items()}
    for out in outputs.values():
        if out.points:
            out.latest, out.passed = out.points[-1].value, out.points[-1].passed
    latest = rows[0] if rows else None
    failing = [c["message"] for c in (decoded[0] or []) if not c["passed"]] if rows else []
    return JobHealth(
        job=j.name, current_version=current,
        health=("degraded" if latest[3] == "degraded" else "healthy") if latest else None,
        latest_run_id=latest[0] if latest else None, failing=failing, counts=counts,
        outputs=list(outputs.values()), limit=limit)


_POINT_FIELDS = frozenset(HealthPoint.model_fields)


def _point(values: dict[str, Any]) -> HealthPoint:
    """A ``HealthPoint`` of values the store wrote, every field given, without pydantic's
    per-field work (20,000 points of 5,000 runs); ``job_health`` checks the keys of its
    first point against the fields."""
    point = HealthPoint.__new__(HealthPoint)
    object.__setattr__(point, "__dict__", values)
    object.__setattr__(point, "__pydantic_fields_set__", _POINT_FIELDS)
    object.__setattr__(point, "__pydantic_extra__", None)
    object.__setattr__(point, "__pydantic_private__", None)
    return point


def _utc(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None \
        else value.astimezone(timezone.utc)
