"""A job's run history at a glance, and two runs side by side.

``run_history`` reads one job's runs as table rows (status, version, times, every parameter
and output) with a single column query, no per-run file access: thousands of runs in tens of
milliseconds. ``compare_runs`` lines two runs up (parameters, outputs, durations) with the
nbdime diff of their output notebooks' sources.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, select

from ..errors import BadInput
from ..models import TERMINAL_STATUSES
from ..models.history import (
    CompareRow,
    HistoryColumn,
    HistoryRow,
    HistoryVersion,
    RunComparison,
    RunHistory,
)
from ..store import Run, Version
from .rows import job_row

if TYPE_CHECKING:
    from .context import ShipContext

MAX_HISTORY = 20_000


def run_history(svc: ShipContext, job: str, limit: int = 5000) -> RunHistory:
    if not 1 <= limit <= MAX_HISTORY:
        raise BadInput(f"limit must be between 1 and {MAX_HISTORY}, got {limit}")
    now = datetime.now(timezone.utc)
    with svc.store.session() as s:
        j = job_row(s, job)
        versions = s.execute(
            select(Version.number, Version.digest, Version.created_at, Version.message)
            .where(Version.job_id == j.id).order_by(Version.number)).all()
        # the JSON columns as their text, decoded below in one json.loads per column (one
        # call per value is most of the time of 5,000 rows)
        rows = s.connection().execute(  # Core rows: no ORM loading per row
            select(Run.id, Run.version_number, Run.status, Run.backend,
                   # the times as text, parsed below: the typed columns cost 30 ms more
                   cast(Run.created_at, Text), cast(Run.started_at, Text),
                   cast(Run.ended_at, Text), cast(Run.parameters, Text),
                   cast(Run.outputs, Text), cast(Run.error, Text), Run.step, Run.pipeline_run_id,
                   Run.health)
            .where(Run.job_id == j.id).order_by(Run.id.desc()).limit(limit + 1)).all()
        current = j.current_version
    truncated = len(rows) > limit
    rows = rows[:limit]
    all_params, all_outputs = _decode_column(rows, 7), _decode_column(rows, 8)
    params: dict[str, bool] = {}
    outputs: dict[str, bool] = {}
    out: list[HistoryRow] = []
    for (rid, number, status, backend, created_text, started_text, ended_text, _p, _o, error,
         step, prun, health), p, o in zip(rows, all_params, all_outputs):
        created, started, ended = _utc(created_text), _utc(started_text), _utc(ended_text)
        duration = None
        if started is not None:
            end = ended or (None if status in TERMINAL_STATUSES else now)
            if end is not None:
                duration = max(0.0, (end - started).total_seconds())
        p, o = p or {}, o or {}
        for k, v in p.items():  # a number: int or float, not bool (inlined: 20,000 values)
            params[k] = params.get(k, True) and (type(v) is float or type(v) is int)
        for k, v in o.items():
            outputs[k] = outputs.get(k, True) and (type(v) is float or type(v) is int)
        out.append(_row({
            "id": rid, "version": number, "status": status, "backend": backend,
            "created_at": created, "started_at": started, "ended_at": ended,
            "duration": duration, "parameters": p, "outputs": o,
            "error": _error_name(error), "step": step, "pipeline_run_id": prun,
            "health": health or "healthy"}))
    if out:  # a field added to HistoryRow and not set above fails here (once, not per row)
        keys = out[0].__dict__.keys()
        assert keys == _ROW_FIELDS, sorted(keys ^ _ROW_FIELDS)
    return RunHistory(
        job=job, current_version=current,
        versions=[HistoryVersion(number=n, digest=d, created_at=c, message=m or "",
                                 is_current=n == current) for n, d, c, m in versions],
        parameters=[HistoryColumn(name=k, numeric=v) for k, v in sorted(params.items())],
        outputs=[HistoryColumn(name=k, numeric=v) for k, v in sorted(outputs.items())],
        runs=out, truncated=truncated)


def compare_runs(svc: ShipContext, a: str, b: str) -> RunComparison:
    import nbformat

    from ..notebook.diff import notebook_diff

    ra, rb = svc.get_run(a, reconcile=False), svc.get_run(b, reconcile=False)
    missing: list[str] = []
    notebooks: list[dict[str, Any] | None] = []
    for info in (ra, rb):
        try:
            path: Path | None = svc.output_path(info.id)
        except Exception:
            path = None
        if path is None:
            missing.append(info.id)
            notebooks.append(None)
        else:
            # nbformat joins list sources into strings, as nbdime needs them
            notebooks.append(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
    base: dict[str, Any] | None = None
    diff: list[dict[str, Any]] = []
    text = ""
    if notebooks[0] is not None and notebooks[1] is not None:
        base, diff, text = notebook_diff(notebooks[0], notebooks[1],
                                         f"run {ra.id} ({ra.job} v{ra.version})",
                                         f"run {rb.id} ({rb.job} v{rb.version})")
    return RunComparison(
        a=ra, b=rb, parameters=_rows(ra.parameters, rb.parameters),
        outputs=_rows(ra.outputs, rb.outputs), duration_a=ra.duration, duration_b=rb.duration,
        notebook_a=base, notebook_diff=diff, notebook_text=text, missing=missing)


def _rows(a: dict[str, Any], b: dict[str, Any]) -> list[CompareRow]:
    names = list(dict.fromkeys([*a, *b]))
    return [CompareRow(name=n, a=a.get(n), b=b.get(n), same=(n in a) == (n in b)
                       and a.get(n) == b.get(n)) for n in names]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)



def _decode_column(rows: Sequence[Any], index: int) -> list[Any]:
    """Column ``index`` of ``rows`` (JSON text, or NULL) decoded in one ``json.loads``."""
    return json.loads("[" + ",".join(r[index] or "null" for r in rows) + "]") if rows else []


def _error_name(text: str | None) -> str | None:
    if not text:
        return None
    error = json.loads(text) or {}
    return error.get("ename") or error.get("message") if error else None


def _utc(text: str | None) -> datetime | None:
    """A time the store wrote, read as text: SQLite keeps it without a zone (UTC), PostgreSQL
    with the session's offset."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None \
        else value.astimezone(timezone.utc)


_ROW_FIELDS = frozenset(HistoryRow.model_fields)


def _row(values: dict[str, Any]) -> HistoryRow:
    """A ``HistoryRow`` of values read from the store's own typed columns, every field given:
    pydantic's ``model_construct`` without its per-field default handling (a quarter of the
    time of 5,000 rows). ``run_history`` checks the keys of its first row against the fields."""
    row = HistoryRow.__new__(HistoryRow)
    object.__setattr__(row, "__dict__", values)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    object.__setattr__(row, "__pydantic_extra__", None)
    object.__setattr__(row, "__pydantic_private__", None)
    return row
