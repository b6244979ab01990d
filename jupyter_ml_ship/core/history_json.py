"""``GET /jobs/{name}/history`` as its JSON body, built by SQLite itself.

``run_history`` makes 5,000 ``HistoryRow`` objects that are then dumped to JSON: parsing the
times, the durations and the JSON columns in Python is most of the time. On SQLite each row's
JSON object is written by ``json_object`` in the query (times as pydantic writes them, durations
from the integer microseconds, as ``timedelta.total_seconds`` does), the column list by
``json_each``; Python only joins the rows. Same JSON as ``run_history(...).model_dump_json()``
(tests/python/test_history_json.py compares them); other databases take that path.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from ..errors import BadInput
from ..models import TERMINAL_STATUSES
from ..models.history import HistoryColumn, HistoryVersion, RunHistory
from ..store import Version
from .history import MAX_HISTORY, run_history
from .rows import job_row

if TYPE_CHECKING:
    from .context import ShipContext


def _iso(col: str) -> str:
    """pydantic's form of a stored UTC time ('2026-01-02 03:04:05.123456') as a JSON string:
    'T', 'Z', no fraction when it is zero; null for NULL."""
    return (f"json_quote(CASE WHEN {col} IS NULL THEN NULL ELSE replace(CASE WHEN "
            f"substr({col}, 20) = '.000000' THEN substr({col}, 1, 19) ELSE {col} END, ' ', 'T')"
            f" || 'Z' END)")


def _micros(col: str) -> str:
    return f"(unixepoch({col}) * 1000000 + coalesce(substr({col}, 21, 6), 0))"


def _object(col: str) -> str:
    """The stored JSON text of a mapping as it is ('null' or NULL: {}); a control character when it
    is not valid JSON (NaN...: ``run_history_json`` then takes pydantic's path)."""
    return (f"CASE WHEN {col} IS NULL OR {col} = 'null' THEN '{{}}' "
            f"WHEN json_valid({col}) THEN {col} ELSE char(1) END")


_TERMINAL = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES))
# each row's JSON written by concatenation: no JSON parsed or written again by SQLite
_FIELDS = {  # HistoryRow's fields in order, each as SQL giving its JSON text
    "id": "json_quote(id)", "version": "version_number", "status": "json_quote(status)",
    "backend": "json_quote(backend)", "created_at": _iso("created_at"),
    "started_at": _iso("started_at"), "ended_at": _iso("ended_at"),
    "duration": f"""coalesce(CASE WHEN started_at IS NULL THEN NULL
        WHEN ended_at IS NOT NULL THEN max(0, {_micros('ended_at')} - {_micros('started_at')}) / 1e6
        WHEN status IN ({_TERMINAL}) THEN NULL
        ELSE max(0, :now - {_micros('started_at')}) / 1e6 END, 'null')""",
    "parameters": _object("parameters"), "outputs": _object("outputs"),
    "error": """json_quote(CASE WHEN json_valid(error) THEN CASE WHEN json_type(error) = 'object'
        THEN coalesce(nullif(json_extract(error, '$.ename'), ''), json_extract(error, '$.message'))
        END END)""",
    "step": "json_quote(step)", "pipeline_run_id": "json_quote(pipeline_run_id)",
    "health": "json_quote(coalesce(nullif(health, ''), 'healthy'))",
}
# each row's JSON written by one printf: no JSON parsed or written again by SQLite
_ROWS = (
    "SELECT printf('{" + ",".join(f'"{k}":%s' for k in _FIELDS) + "}', "
    + ", ".join(_FIELDS.values())
    + ") FROM runs WHERE job_id = :job AND (:status IS NULL OR status = :status) "
    "AND id > :cut ORDER BY id DESC")


# every parameter and output name of those runs, numeric when every value is a number
_COLUMNS = " UNION ALL ".join(
    f"SELECT '{col}', key, min(type IN ('integer', 'real')) FROM runs, json_each("
    f"CASE WHEN json_valid(runs.{col}) THEN CASE WHEN json_type(runs.{col}) = 'object' "
    f"THEN runs.{col} END END) WHERE runs.job_id = :job AND runs.id > :cut GROUP BY key"
    for col in ("parameters", "outputs"))


def run_history_json(svc: ShipContext, job: str, limit: int = 5000,
                     status: str | None = None) -> str:
    """The JSON of ``run_history(svc, job, limit)`` with only the runs in ``status`` (None:
    all), the columns and ``truncated`` over every run up to ``limit`` as before."""
    if not 1 <= limit <= MAX_HISTORY:
        raise BadInput(f"limit must be between 1 and {MAX_HISTORY}, got {limit}")
    with svc.store.session() as s:
        if s.get_bind().dialect.name != "sqlite":
            return _pydantic(svc, job, limit, status)
        j = job_row(s, job)
        current = j.current_version
        versions = s.execute(
            select(Version.number, Version.digest, Version.created_at, Version.message)
            .where(Version.job_id == j.id).order_by(Version.number)).all()
        conn = s.connection()
        # the newest ``limit`` runs are those after the run at offset ``limit`` (if any)
        cut = conn.execute(text("SELECT id FROM runs WHERE job_id = :job ORDER BY id DESC "
                                "LIMIT 1 OFFSET :limit"), {"job": j.id, "limit": limit}).scalar()
        args: dict[str, Any] = {"job": j.id, "cut": cut or "", "status": status or None,
                                "now": _epoch_micros(datetime.now(timezone.utc))}
        rows = conn.execute(text(_ROWS), args).scalars().all()
        columns: dict[str, list[HistoryColumn]] = {"parameters": [], "outputs": []}
        for col, key, numeric in sorted(conn.execute(text(_COLUMNS), args).all()):
            columns[col].append(HistoryColumn(name=key, numeric=bool(numeric)))
    body = ",".join(rows)
    if "\x01" in body:  # a mapping that is not valid JSON (NaN, ...): pydantic's way
        return _pydantic(svc, job, limit, status)
    envelope = RunHistory(
        job=job, current_version=current,
        versions=[HistoryVersion(number=n, digest=d, created_at=c, message=m or "",
                                 is_current=n == current) for n, d, c, m in versions],
        parameters=columns["parameters"], outputs=columns["outputs"], runs=[],
        truncated=cut is not None).model_dump_json()
    head, sep, tail = envelope.partition('"runs":[]')
    assert sep and '"runs":[]' not in tail, "the envelope names runs once"
    return f'{head}"runs":[{body}]{tail}'


def _pydantic(svc: ShipContext, job: str, limit: int, status: str | None) -> str:
    history = run_history(svc, job, limit)
    if status:
        history.runs = [r for r in history.runs if r.status == status]
    return history.model_dump_json()


def _epoch_micros(value: datetime) -> int:
    delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds

