"""``on_degraded: stop`` of a pipeline step: a degraded run (it succeeded, a check failed)
stops the steps after it, and the pipeline run fails naming the step (``core.engine``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ...store import Run
from .evaluate import failing

if TYPE_CHECKING:
    from ...store import Store


def degraded_stops(store: Store, spec: dict[str, Any], steps: dict[str, Any]) -> dict[str, str]:
    """Steps with ``on_degraded: stop`` whose succeeded run is degraded: step id -> its failed
    checks in words. ``steps``: step id -> an object with ``status`` and ``run_id``. No query
    when no such step has succeeded."""
    candidates = {steps[sid].run_id: sid for sid, st in (spec.get("steps") or {}).items()
                  if st.get("on_degraded") == "stop" and sid in steps
                  and steps[sid].status == "succeeded" and steps[sid].run_id}
    if not candidates:
        return {}
    with store.session() as s:
        rows = s.execute(select(Run.id, Run.checks).where(Run.id.in_(list(candidates)),
                                                          Run.health == "degraded")).all()
    return {candidates[rid]: "; ".join(failing(checks or [])) or "degraded"
            for rid, checks in rows}
