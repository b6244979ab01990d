"""Query-string models of the REST API (bodies and responses: ``jupyter_ml_ship.models``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import RunStatus
from ..models.lab import LogChunk, LogDone, ServerHealth, Visitor
from ..models.pipelines import PipelineRunStatus


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListRunsQuery(_Query):
    """``GET /runs``: newest first, one page at a time."""

    job: str | None = Field(None, description="only runs of this job")
    status: RunStatus | None = Field(None, description="only runs in this status")
    limit: int = Field(50, ge=1, le=1000, description="page size")
    cursor: str | None = Field(None, description="next_cursor of the previous page")
    pipeline_run_id: str | None = Field(None, description="only the step runs of a pipeline run")


class AuditQuery(_Query):
    """``GET /jobs/{name}/audit``: the audit trail of a job or pipeline, newest first."""

    limit: int = Field(200, ge=1, le=10_000, description="most entries")


class LogQuery(_Query):
    offset: int = Field(0, ge=0, le=2**53 - 1, description="byte offset to read the log from")


class LogFollowQuery(LogQuery):
    tail: int | None = Field(None, ge=1, le=2**53 - 1,
                             description="start at most this many bytes before the end of the "
                                         "log, at a line start (a long log opens at its end)")


class OutputQuery(_Query):
    format: Literal["ipynb", "html"] = Field(
        "ipynb", description="ipynb: the notebook JSON; html: a static HTML report (nbconvert)"
    )


class NotebookInfoQuery(_Query):
    path: str = Field(min_length=1, pattern=r"\S",
                      description="notebook path relative to the server root")


class ProjectPreviewQuery(NotebookInfoQuery):
    root: str | None = Field(None, max_length=4096, description="the project folder to preview, "
                             "relative to the notebook's folder (as metadata.ml_ship.root, e.g. "
                             "'..'); absent: the notebook's own root")


class ListPipelineRunsQuery(_Query):
    """``GET /pipeline-runs`` and ``GET /pipelines/{name}/runs``: newest first."""

    pipeline: str | None = Field(None, description="only runs of this pipeline")
    status: PipelineRunStatus | None = Field(None, description="only runs in this status")
    limit: int = Field(50, ge=1, le=1000, description="page size")
    cursor: str | None = Field(None, description="next_cursor of the previous page")


class PipelineRunsOfQuery(_Query):
    status: PipelineRunStatus | None = Field(None, description="only runs in this status")
    limit: int = Field(50, ge=1, le=1000, description="page size")
    cursor: str | None = Field(None, description="next_cursor of the previous page")


class PipelineInfoQuery(_Query):
    path: str = Field(min_length=1, pattern=r"\S", description="a *.pipeline.yaml file or a "
                      "folder of notebooks, relative to the server root")


class VersionDiffQuery(_Query):
    a: int = Field(ge=1, le=2**31 - 1, description="a version number")
    b: int | None = Field(None, ge=1, le=2**31 - 1, description="another (default: the current)")


class ArtifactQuery(_Query):
    download: bool = Field(False, description="send as an attachment (a download), not inline")


__all__ = ["ArtifactQuery", "AuditQuery", "ListPipelineRunsQuery", "ListRunsQuery", "LogChunk",
           "LogDone", "LogFollowQuery", "LogQuery", "NotebookInfoQuery", "OutputQuery",
           "PipelineInfoQuery", "PipelineRunsOfQuery", "ProjectPreviewQuery", "ServerHealth",
           "VersionDiffQuery", "Visitor"]
