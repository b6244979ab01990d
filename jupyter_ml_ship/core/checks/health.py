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
from .spec import checks_of

if TYPE_CHECKING:
    from ..service import ShipService

DEFAULT_LIMIT = 100
MAX_LIMIT = 5000


def job_health(svc: ShipService, job: str, limit: int = DEFAULT_LIMIT) -> JobHealth:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    with svc.store.session() as s:
        j = svc._job(s, job)
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
    outputs: dict[str, OutputHealth] = {
        name: OutputHealth(name=name, rules=rules.model_dump(exclude_defaults=True))
        for name, rules in spec.items()}
    for (rid, version, ended, _h, _c), checks in zip(reversed(rows), reversed(decoded)):
        if not checks:
            continue
        at = _utc(ended)
        by_name: dict[str, list[dict[str, Any]]] = {}
        for c in checks:
            by_name.setdefault(c["name"], []).append(c)
        for name, results in by_name.items():
            out = outputs.get(name)
            if out is None:
                out = outputs[name] = OutputHealth(name=name)
            value = next((c["value"] for c in results if c.get("value") is not None), None)
            baseline = next((c["baseline"] for c in results if c.get("baseline") is not None),
                            None)
            passed = all(c["passed"] for c in results)
            out.points.append(HealthPoint.model_construct(
                run_id=rid, version=version, at=at, value=value, baseline=baseline,
                passed=passed))
            out.failed += not passed
    for out in outputs.values():
        if out.points:
            out.latest, out.passed = out.points[-1].value, out.points[-1].passed
    latest = rows[0] if rows else None
    failing = [c["message"] for c in (decoded[0] or []) if not c["passed"]] if rows else []
    return JobHealth(
        job=j.name, current_version=current,
        health=(latest[3] or "healthy") if latest else None,
        latest_run_id=latest[0] if latest else None, failing=failing, counts=counts,
        outputs=list(outputs.values()), limit=limit)


def _utc(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None \
        else value.astimezone(timezone.utc)
