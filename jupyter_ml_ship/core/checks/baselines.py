"""Baselines of ``max_drop`` / ``max_rise``: what a run's output is compared with.

- ``previous``: the job's previous healthy succeeded run that recorded the output (any version
  but a rejected candidate: a new version that is worse than the last good run of the old one
  is caught);
- ``last_N``: the median of the last N healthy succeeded runs of the run's own version that
  recorded it (fewer than N: the median of those there are);
- ``reference``: the version's reference run (``versions.reference_run_id``, set by promotion).

Only runs that ended before the checked one count, read newest first in pages, a few columns
each: cheap with thousands of runs.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from typing import Any, Protocol
from typing import cast as typed

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from ...store import Run, Version


class RuleContext(Protocol):
    """What a baseline reads of the rule's context (``registry.RuleContext`` has it): the run
    that ended, its version, and a session on the store."""

    run_id: str
    job_id: int
    version: int
    version_id: int
    reference_run_id: str | None
    session: Session

#: rows read per query: a first small page (most baselines are found in it), then larger ones
PAGES = (20, 200)
#: runs looked at, at most, for one baseline (runs that did not record the output are skipped)
SCAN_LIMIT = 5000


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _healthy_runs(ctx: RuleContext, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(run id, outputs) of the healthy succeeded runs before ``ctx``'s, newest first."""
    # by (job_id, id), the runs index, newest first; the other conditions filter as it walks
    q = select(Run.id, cast(Run.outputs, Text)).where(
        Run.job_id == ctx.job_id, Run.status == "succeeded", Run.health == "healthy")
    if kind.startswith("last_"):
        q = q.where(Run.version_id == ctx.version_id)
    else:  # a rejected candidate's validation run is no baseline for the versions after it
        q = q.where(Run.version_id.not_in(select(Version.id).where(
            Version.job_id == ctx.job_id, Version.promotion == "rejected")))
    cursor: str = ctx.run_id
    seen = 0
    while seen < SCAN_LIMIT:
        size = PAGES[0] if not seen else PAGES[1]
        rows = ctx.session.execute(q.where(Run.id < cursor).order_by(Run.id.desc())
                                   .limit(size)).all()
        if not rows:
            return
        for rid, text in rows:
            yield rid, (json.loads(text) if text else None) or {}
        seen += len(rows)
        cursor = rows[-1][0]


def baseline_run_ids(ctx: RuleContext, kind: str, output: str | None = None) -> list[str]:
    """The runs the baseline ``kind`` is made of, newest first."""
    if kind == "reference":
        return [ctx.reference_run_id] if ctx.reference_run_id else []
    wanted = int(kind.split("_", 1)[1]) if kind.startswith("last_") else 1
    out: list[str] = []
    for rid, outputs in _healthy_runs(ctx, kind):
        if output is None or output in outputs:
            out.append(rid)
            if len(out) >= wanted:
                break
    return out


def baseline_value(ctx: RuleContext, output: str, kind: str) -> tuple[float | None, str]:
    """The baseline of ``output`` and where it came from (or why there is none)."""
    if kind == "reference":
        if not ctx.reference_run_id:
            return None, f"version {ctx.version} has no reference run"
        text = ctx.session.scalar(select(cast(Run.outputs, Text))
                                  .where(Run.id == ctx.reference_run_id))
        value = ((json.loads(text) if text else None) or {}).get(output)
        if not _number(value):
            return None, f"reference run {ctx.reference_run_id} recorded no number {output}"
        return float(typed(float, value)), f"reference run {ctx.reference_run_id}"
    if kind == "previous":
        for rid, outputs in _healthy_runs(ctx, kind):
            if _number(outputs.get(output)):
                return float(outputs[output]), f"previous run {rid}"
        return None, "no earlier healthy run recorded it"
    wanted = int(kind.split("_", 1)[1])
    values: list[float] = []
    for _rid, outputs in _healthy_runs(ctx, kind):
        if _number(outputs.get(output)):
            values.append(float(outputs[output]))
            if len(values) >= wanted:
                break
    if not values:
        return None, f"no earlier healthy run of v{ctx.version} recorded it"
    return float(statistics.median(values)), \
        f"median of the last {len(values)} healthy run{'s' if len(values) > 1 else ''} of " \
        f"v{ctx.version}"
