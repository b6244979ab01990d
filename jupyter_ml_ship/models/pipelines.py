"""Public models of pipelines: what ``ml-ship pipeline … --json`` prints and the REST API returns.

A pipeline version and a pipeline run both list their steps as ``StepInfo`` — the lab draws the
graph from ``id`` / ``depends_on`` and colours it from ``status``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from . import DeliveryInfo, GitInfo, RunError, ShippedInfo
from .base import ApiModel

StepStatus = Literal[
    "pending", "starting", "queued", "building", "running",
    "succeeded", "failed", "cancelled", "timed_out", "skipped",
]
PipelineRunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]

STEP_DONE: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "timed_out", "skipped"})
STEP_ACTIVE: frozenset[str] = frozenset({"starting", "queued", "building", "running"})
#: an upstream step in one of these makes its descendants ``skipped``
STEP_BLOCKING: frozenset[str] = frozenset({"failed", "cancelled", "timed_out", "skipped"})
PIPELINE_DONE: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


class StepInfo(ApiModel):
    """One step: as declared (in a file or version) and, in a run, how it went."""

    id: str
    job: str
    version: int | None = Field(None, description="pinned job version (None: not shipped yet)")
    notebook: str | None = Field(None, description="the notebook file the step was shipped from")
    depends_on: list[str] = []
    parameters: dict[str, Any] = Field(
        {}, description="as written (templates) in a version; resolved values in a run"
    )
    retries: int | None = None
    timeout: float | None = None
    backend: str | None = None
    cache: bool = Field(True, description="false: the step always runs, never reused")
    checks: dict[str, Any] | None = Field(
        None, description="checks on the step's outputs, over its notebook's (core.checks)")
    on_degraded: Literal["continue", "stop"] = Field(
        "continue", description="stop: when the step's run is degraded, the steps after it are "
        "not started and the pipeline run fails")
    spark: bool | dict[str, Any] | None = Field(
        None, description="the step's spark: (master, executors, cores, memory, conf), merged "
        "over its notebook's metadata.ml_ship.spark; false: no Spark")
    declared_outputs: list[str] | None = Field(
        None, description="outputs the notebook records (None: names are computed at run time)"
    )
    status: StepStatus | None = Field(None, description="in a run only")
    run_id: str | None = Field(None, description="the step's run (for a cached step: the earlier "
                                                 "run whose outputs were reused)")
    cached: bool = False
    outputs: dict[str, Any] = {}
    error: RunError | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: float | None = None


class PipelineDescription(ApiModel):
    """A pipeline file read and validated, nothing shipped or run (the lab's graph view)."""

    name: str
    path: str
    parameters: dict[str, Any] = {}
    steps: list[StepInfo]


class PipelineVersionInfo(ApiModel):
    pipeline: str
    number: int
    digest: str
    message: str = ""
    author: str = ""
    created_at: datetime
    parameters: dict[str, Any] = Field({}, description="pipeline parameters and their defaults")
    steps: list[StepInfo]
    source_path: str = ""
    is_current: bool = False
    environments: list[str] = Field(
        [], description="the environments whose pointer is this version (production: the "
        "current version)")
    git: GitInfo | None = Field(
        None, description="git provenance of the pipeline file's folder (null: not in git)")


class PipelineRunInfo(ApiModel):
    id: str
    pipeline: str
    version: int
    status: PipelineRunStatus
    parameters: dict[str, Any] = {}
    backend: str | None = None
    parallelism: int = 1
    use_cache: bool = True
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: float | None = None
    error: RunError | None = None
    steps: list[StepInfo] = []
    started_by: str = Field("", description="the user who started it (\"schedule\": a tick)")
    notifications: list[DeliveryInfo] = Field(
        [], description="notifications of this pipeline run (GET /pipeline-runs/{id} only)")


class PipelineInfo(ShippedInfo[PipelineRunInfo]):
    """A shipped pipeline (its schedule, if it has one: ``GET /schedules``)."""


class ShipPipelineResult(ApiModel):
    pipeline: PipelineInfo
    version: PipelineVersionInfo
    created: bool = Field(description="false when the content was unchanged and the version reused")
    trigger_token: str | None = Field(
        None, description="the secret of the pipeline's new webhook trigger (its file's "
        "triggers:), shown this once (only its hash is kept)")


class PipelineList(ApiModel):
    pipelines: list[PipelineInfo]


class PipelineVersionList(ApiModel):
    versions: list[PipelineVersionInfo]


class PipelineRunList(ApiModel):
    runs: list[PipelineRunInfo]
    next_cursor: str | None = None


# ---- requests -------------------------------------------------------------------------------


class ShipPipelineRequest(ApiModel):
    path: str = Field(min_length=1, pattern=r"\S",
                      description="a *.pipeline.yaml file or a folder of notebooks")
    message: str | None = None


class StartPipelineRunRequest(ApiModel):
    version: int | None = Field(None, description="default: the current version")
    parameters: dict[str, Any] | None = None
    backend: str | None = Field(None, description="for steps that name no backend")
    use_cache: bool = Field(True, description="false: re-run steps even when unchanged")
    parallelism: int | None = Field(None, ge=1, le=256)
    environment: str | None = Field(
        None, min_length=1, max_length=63, description="run the version this environment "
        "(MlShip.environments) points at instead (not with version); 404 when it is not "
        "configured or has no version of the pipeline")


class PipelineRunStatusEvent(ApiModel):
    """What changed in a pipeline run (for server events)."""

    pipeline_run_id: str
    pipeline: str
    status: PipelineRunStatus
    steps: dict[str, StepStatus]
