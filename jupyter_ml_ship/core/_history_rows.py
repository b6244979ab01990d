"""The rows and columns of a job's runs table on SQLite, remembered row by row.

Each run's JSON object is written by SQLite (``printf``: times as pydantic writes them, durations
from the integer microseconds as ``timedelta.total_seconds`` does, the stored parameters/outputs
text as it is). A finished run's object depends only on its stored columns, so ``RowMemo`` keeps it
under those columns' values: after a write to the store (one run's health changed, a run added)
the next ask reads the plain columns of every run (a third of the time of writing their JSON) and
has SQLite write the objects of the rows it has not seen as they are now. A run still going is
written every time (its duration grows until now).

The parameter and output columns are the names in the runs' mappings, numeric when every value
is a number (not a bool), counted per (column, name, numeric) as runs come and go: a mapping is
decoded when its run is first seen (or changed), not at every ask.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter, OrderedDict
from typing import Any
from urllib.parse import quote

from ..models import TERMINAL_STATUSES


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


TERMINAL = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES))
_FIELDS = {  # HistoryRow's fields in order, each as SQL giving its JSON text
    "id": "json_quote(id)", "version": "version_number", "status": "json_quote(status)",
    "backend": "json_quote(backend)", "created_at": _iso("created_at"),
    "started_at": _iso("started_at"), "ended_at": _iso("ended_at"),
    "duration": f"""coalesce(CASE WHEN started_at IS NULL THEN NULL
        WHEN ended_at IS NOT NULL THEN max(0, {_micros('ended_at')} - {_micros('started_at')}) / 1e6
        WHEN status IN ({TERMINAL}) THEN NULL
        ELSE max(0, :now - {_micros('started_at')}) / 1e6 END, 'null')""",
    "parameters": _object("parameters"), "outputs": _object("outputs"),
    "error": """json_quote(CASE WHEN json_valid(error) THEN CASE WHEN json_type(error) = 'object'
        THEN coalesce(nullif(json_extract(error, '$.ename'), ''), json_extract(error, '$.message'))
        END END)""",
    "step": "json_quote(step)", "pipeline_run_id": "json_quote(pipeline_run_id)",
    "health": "json_quote(coalesce(nullif(health, ''), 'healthy'))",
}
# the stored columns a row's JSON is made of, in the order ``RowMemo`` keys them
_COLUMNS = ("id", "version_number", "status", "backend", "created_at", "started_at", "ended_at",
            "parameters", "outputs", "error", "step", "pipeline_run_id", "health")
_STATUS, _STARTED, _ENDED, _PARAMS, _OUTPUTS = 2, 5, 6, 7, 8
_RAW = ("SELECT " + ", ".join(_COLUMNS) + " FROM runs WHERE job_id = :job AND id > :cut "
        "ORDER BY id DESC")
# each row's JSON written by one printf: no JSON parsed or written again by SQLite
_JSON = ("SELECT id, printf('{" + ",".join(f'"{k}":%s' for k in _FIELDS) + "}', "
         + ", ".join(_FIELDS.values()) + ") FROM runs WHERE job_id = :job AND id > :cut "
         "AND (:ids IS NULL OR id IN (SELECT value FROM json_each(:ids)))")

Raw = tuple[Any, ...]


class _Job:
    """What ``RowMemo`` knows of one job: its runs' columns as last read, the JSON of the finished
    ones, and how many of them have each (column, name, numeric)."""

    def __init__(self) -> None:
        self.raw: set[Raw] = set()
        self.json: dict[Raw, str] = {}
        self.names: Counter[tuple[str, str, bool]] = Counter()


class RowMemo:
    """Finished runs' JSON objects under their stored columns, for a few jobs of one store."""

    #: jobs remembered (a lab looks at few)
    JOBS = 4

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: OrderedDict[int, _Job] = OrderedDict()

    def rows(self, conn: Any, job: int, cut: str, status: str | None, now: int,
             ) -> tuple[list[str], dict[str, dict[str, bool]], bool]:
        """The JSON objects of ``job``'s runs after ``cut`` (newest first, those in ``status``
        only), the parameter and output names of all of them, and whether any is still going.
        ``conn`` is a SQLAlchemy connection to the store (read through its DBAPI connection:
        plain tuples, hashed in C)."""
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            raw = cursor.execute(_RAW, {"job": job, "cut": cut}).fetchall()
            with self.lock:
                known = self.jobs.pop(job, None) or _Job()
            now_raw = set(raw)
            gone, new = known.raw - now_raw, now_raw - known.raw
            for r in gone:
                known.json.pop(r, None)
            _count(known.names, gone, -1)
            _count(known.names, new, 1)
            known.raw = now_raw
            shown = raw if status is None else [r for r in raw if r[_STATUS] == status]
            kept = known.json
            out: list[str | None] = [kept.get(r) for r in shown]
            missing = [r[0] for r, text in zip(shown, out) if text is None]
            if missing:
                made = dict(cursor.execute(_JSON, {
                    "job": job, "cut": cut, "now": now,
                    "ids": None if len(missing) == len(raw) else json.dumps(missing)}).fetchall())
                for i, r in enumerate(shown):
                    if out[i] is None:
                        out[i] = text = made[r[0]]
                        if _stable(r) and "\x01" not in text:
                            kept[r] = text
        finally:
            cursor.close()
        with self.lock:
            self.jobs[job] = known
            while len(self.jobs) > self.JOBS:
                self.jobs.popitem(last=False)
        names: dict[str, dict[str, bool]] = {"parameters": {}, "outputs": {}}
        for (col, name, numeric), n in known.names.items():
            if n > 0:
                names[col][name] = names[col].get(name, True) and numeric
        active = any(r[_STATUS] not in TERMINAL_STATUSES for r in raw)
        return out, names, active  # type: ignore[return-value]


def _count(counts: Counter[tuple[str, str, bool]], rows: set[Raw], step: int) -> None:
    """Add ``step`` for each (column, name, numeric) of each of ``rows``' mappings."""
    for col, index in (("parameters", _PARAMS), ("outputs", _OUTPUTS)):
        texts = [r[index] for r in rows if r[index]]
        for value in _decoded(texts):
            if isinstance(value, dict):
                for k, v in value.items():
                    counts[col, k, type(v) is int or type(v) is float] += step


def _decoded(texts: list[str]) -> list[Any]:
    """The JSON ``texts`` decoded (in one ``json.loads`` when they all read)."""
    try:
        return json.loads("[" + ",".join(texts) + "]") if texts else []
    except ValueError:
        out = []
        for t in texts:
            try:
                out.append(json.loads(t))
            except ValueError:
                out.append(None)
        return out


def _stable(r: Raw) -> bool:
    """Whether a run's JSON stays as it is while its columns do (a run going lasts until now)."""
    return r[_STATUS] in TERMINAL_STATUSES or r[_STARTED] is None or r[_ENDED] is not None


class Unchanged:
    """Bodies of one SQLite store, kept while ``PRAGMA data_version`` stays the same (on a
    private connection, bumped by every commit of any other connection), and its ``RowMemo``."""

    #: bodies kept (job, limit, status); a lab asks for few
    SIZE = 32

    def __init__(self, database: str):
        self.lock = threading.Lock()
        self.bodies: OrderedDict[tuple[Any, ...], tuple[int, str]] = OrderedDict()
        self.conn: sqlite3.Connection | None = sqlite3.connect(
            f"file:{quote(database)}?mode=ro", uri=True, check_same_thread=False)
        self.memo = RowMemo()

    def version(self) -> int | None:
        with self.lock:
            try:
                return int(self.conn.execute("PRAGMA data_version").fetchone()[0]) \
                    if self.conn else None
            except sqlite3.Error:  # the file replaced, say: nothing is kept
                return None

    def get(self, key: tuple[Any, ...], version: int | None) -> str | None:
        with self.lock:
            kept = self.bodies.get(key)
            return kept[1] if kept is not None and version is not None \
                and kept[0] == version else None

    def put(self, key: tuple[Any, ...], version: int | None, body: str) -> None:
        if version is None:
            return
        with self.lock:
            self.bodies[key] = (version, body)
            self.bodies.move_to_end(key)
            while len(self.bodies) > self.SIZE:
                self.bodies.popitem(last=False)
