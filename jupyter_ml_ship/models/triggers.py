"""Wire models of runs started by events (``core.triggers``): ``GET /triggers``,
``ml-ship triggers --json``, the webhook's answer and a new token (shown once)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from .base import ApiModel

Target = Literal["job", "pipeline"]


class TriggerInfo(ApiModel):
    job: str = Field(description="the name of the job or pipeline it starts (see target)")
    target: Target = Field("job", description="what it starts: a job (metadata.ml_ship."
                           "triggers) or a pipeline (its file's triggers:)")
    kind: Literal["webhook", "files", "after"]
    detail: str = Field(description="files: the glob (under root); after: the upstream jobs or "
                        "pipelines; webhook: 'active' or 'revoked'")
    environment: str = Field("production", description="the environment whose version it runs")
    last_fired: datetime | None = None
    last_run_id: str | None = None
    root: str | None = Field(None, description="files: the folder the glob is read in")
    parameter: str | None = Field(None, description="files: the parameter given the file's path")
    revoked: bool = False


class TriggerList(ApiModel):
    triggers: list[TriggerInfo]


class TriggerToken(ApiModel):
    """A webhook's new secret (shown once: only its hash is kept)."""

    job: str = Field(description="the job or pipeline (see target)")
    target: Target = "job"
    token: str
    path: str = Field(description="POST it (JSON body: the run's parameters), under the "
                      "server's base URL")


class TriggerFired(ApiModel):
    job: str = Field(description="the job or pipeline (see target)")
    target: Target = "job"
    run_id: str = Field(description="the run it started (a pipeline: the pipeline run)")
    version: int
    environment: str


class TriggerParameters(ApiModel):
    """The body of ``POST /triggers/{token}``: the run's parameters, checked like a run's."""

    model_config = ConfigDict(extra="allow")
