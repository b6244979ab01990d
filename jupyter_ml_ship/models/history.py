"""The runs table of a job or a pipeline (``GET /jobs/{name}/history``, ``GET
/pipelines/{name}/history``) and two runs side by side (``GET /runs/compare``); filled by
``core.history`` and ``core.pipeline_history``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from . import RunHealth, RunInfo, RunStatus
from .base import ApiModel


class HistoryRow(ApiModel):
    """One run as a row of the runs table."""

    id: str
    version: int
    status: RunStatus
    backend: str
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: float | None = None
    parameters: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    error: str | None = Field(None, description="the exception name (or reason) of a failure")
    step: str | None = None
    pipeline_run_id: str | None = None
    health: RunHealth | None = Field(None, description="degraded: it succeeded but a check on "
                                     "its outputs failed (a job's runs; None for a pipeline's)")


class HistoryColumn(ApiModel):
    name: str
    numeric: bool = Field(description="every value recorded is a number (chartable)")


class HistoryVersion(ApiModel):
    number: int
    digest: str
    created_at: datetime
    message: str = ""
    is_current: bool = False


class RunHistory(ApiModel):
    """``GET /jobs/{name}/history``: every run of a job (newest first) as table rows."""

    job: str
    current_version: int | None = None
    versions: list[HistoryVersion] = []
    parameters: list[HistoryColumn] = Field([], description="every parameter name seen")
    outputs: list[HistoryColumn] = Field([], description="every output name recorded")
    runs: list[HistoryRow] = []
    truncated: bool = Field(False, description="more runs than the limit: the oldest left out")


class CompareRow(ApiModel):
    name: str
    a: Any = None
    b: Any = None
    same: bool


class RunComparison(ApiModel):
    """``GET /runs/compare?a=&b=``: two runs side by side."""

    a: RunInfo
    b: RunInfo
    parameters: list[CompareRow] = []
    outputs: list[CompareRow] = []
    duration_a: float | None = None
    duration_b: float | None = None
    notebook_a: dict[str, Any] | None = Field(
        None, description="run a's output notebook, sources only (the base of notebook_diff)")
    notebook_diff: list[dict[str, Any]] = Field(
        [], description="nbdime's diff of a's output notebook to b's, sources only")
    notebook_text: str = Field("", description="the same diff as text (what ml-ship compare prints)")
    missing: list[str] = Field([], description="runs with no output notebook (no diff)")


class StepCell(ApiModel):
    """One step of one pipeline run, as a cell group of the table."""

    status: str
    duration: float | None = None
    run_id: str | None = None
    cached: bool = False
    parameters: dict[str, Any] = {}
    outputs: dict[str, Any] = {}


class PipelineHistoryRow(HistoryRow):
    steps: dict[str, StepCell] = Field({}, description="each step of the run, by step id")


class StepGroup(ApiModel):
    id: str
    job: str
    parameters: list[HistoryColumn] = []
    outputs: list[HistoryColumn] = []


class PipelineHistory(RunHistory):
    """``GET /pipelines/{name}/history``: every run of a pipeline (newest first) as table rows;
    ``job`` is the pipeline's name."""

    runs: list[PipelineHistoryRow] = []  # type: ignore[assignment]
    step_groups: list[StepGroup] = Field([], description="the column groups: one per step")
