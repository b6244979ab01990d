"""A pipeline's run history at a glance: one row per pipeline run, one column group per step.

``pipeline_history`` answers ``GET /pipelines/{name}/history`` in the shape of a job's
``RunHistory`` (so the lab's runs table and chart read both): the pipeline's parameters as
``parameters``, every step output as ``outputs`` named ``STEP.OUTPUT`` (chartable), and per row
``steps`` with each step's status, duration, parameters and recorded outputs; ``step_groups``
lists the steps (in the pipeline's order) with the parameter and output columns each has.
Two queries (pipeline runs, their steps), no per-run file access.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..errors import BadInput
from ..models.history import (
    HistoryColumn,
    HistoryVersion,
    PipelineHistory,
    PipelineHistoryRow,
    StepCell,
    StepGroup,
)
from ..pipelines.models import PIPELINE_DONE, STEP_DONE
from ..store.schema import PipelineRun, PipelineStep, PipelineVersion
from .engine.versions import pipeline_row
from .history import MAX_HISTORY

if TYPE_CHECKING:
    from .context import ShipContext


def _duration(started: datetime | None, ended: datetime | None, done: bool,
              now: datetime) -> float | None:
    if started is None:
        return None
    end = ended or (None if done else now)
    return None if end is None else max(0.0, (end - started).total_seconds())


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _note(columns: dict[str, bool], values: dict[str, Any]) -> None:
    for k, v in values.items():
        columns[k] = columns.get(k, True) and _number(v)


def pipeline_history(svc: ShipContext, name: str, limit: int = 5000) -> PipelineHistory:
    if not 1 <= limit <= MAX_HISTORY:
        raise BadInput(f"limit must be between 1 and {MAX_HISTORY}, got {limit}")
    now = datetime.now(timezone.utc)
    with svc.store.session() as s:
        pipe = pipeline_row(s, name)
        current = pipe.current_version
        versions = s.execute(
            select(PipelineVersion.number, PipelineVersion.digest, PipelineVersion.created_at,
                   PipelineVersion.message, PipelineVersion.spec)
            .where(PipelineVersion.pipeline_id == pipe.id)
            .order_by(PipelineVersion.number)).all()
        rows = s.execute(
            select(PipelineRun.id, PipelineRun.version_number, PipelineRun.status,
                   PipelineRun.backend, PipelineRun.created_at, PipelineRun.started_at,
                   PipelineRun.ended_at, PipelineRun.parameters, PipelineRun.error)
            .where(PipelineRun.pipeline_id == pipe.id)
            .order_by(PipelineRun.id.desc()).limit(limit + 1)).all()
        ids = [r[0] for r in rows[:limit]]
        steps: dict[str, list[Any]] = {}
        for i in range(0, len(ids), 500):  # (SQLite's bound-parameter limit)
            for st in s.execute(
                    select(PipelineStep.pipeline_run_id, PipelineStep.step, PipelineStep.job,
                           PipelineStep.status, PipelineStep.run_id, PipelineStep.cached,
                           PipelineStep.parameters, PipelineStep.outputs,
                           PipelineStep.started_at, PipelineStep.ended_at)
                    .where(PipelineStep.pipeline_run_id.in_(ids[i:i + 500]))).all():
                steps.setdefault(st[0], []).append(st)
    # the step order: the current version's, then steps only older versions had
    order: dict[str, str] = {}
    for *_, spec in sorted(versions, key=lambda v: v[0] != current):
        for sid, st in ((spec or {}).get("steps") or {}).items():
            order.setdefault(sid, (st or {}).get("job", sid))
    params: dict[str, bool] = {}
    step_params: dict[str, dict[str, bool]] = {}
    step_outputs: dict[str, dict[str, bool]] = {}
    flat_outputs: dict[str, bool] = {}
    out: list[PipelineHistoryRow] = []
    for rid, number, status, backend, created, started, ended, p, error in rows[:limit]:
        p = p or {}
        _note(params, p)
        cells: dict[str, StepCell] = {}
        flat: dict[str, Any] = {}
        for _, sid, job, st_status, run_id, cached, sp, so, s_start, s_end in steps.get(rid, []):
            order.setdefault(sid, job)
            sp, so = sp or {}, so or {}
            _note(step_params.setdefault(sid, {}), sp)
            _note(step_outputs.setdefault(sid, {}), so)
            cells[sid] = StepCell.model_construct(
                status=st_status, duration=_duration(s_start, s_end, st_status in STEP_DONE, now),
                run_id=run_id, cached=bool(cached), parameters=sp, outputs=so)
            flat.update({f"{sid}.{k}": v for k, v in so.items()})
        _note(flat_outputs, flat)
        out.append(PipelineHistoryRow.model_construct(
            id=rid, version=number, status=status, backend=backend or "", created_at=created,
            started_at=started, ended_at=ended,
            duration=_duration(started, ended, status in PIPELINE_DONE, now), parameters=p,
            outputs=flat, error=(error or {}).get("message") if error else None,
            step=None, pipeline_run_id=None, steps=cells))

    def columns(seen: dict[str, bool]) -> list[HistoryColumn]:
        return [HistoryColumn(name=k, numeric=v) for k, v in sorted(seen.items())]

    return PipelineHistory(
        job=name, current_version=current,
        versions=[HistoryVersion(number=n, digest=d, created_at=c, message=m or "",
                                 is_current=n == current) for n, d, c, m, _ in versions],
        parameters=columns(params), outputs=columns(flat_outputs),
        runs=out, truncated=len(rows) > limit,
        step_groups=[StepGroup(id=sid, job=job, parameters=columns(step_params.get(sid, {})),
                               outputs=columns(step_outputs.get(sid, {})))
                     for sid, job in order.items()])
