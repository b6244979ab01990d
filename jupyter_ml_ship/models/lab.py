"""What only the lab asks: the server's health (and, in team mode, who asks), a notebook
before it is shipped, and the messages of the log WebSocket."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from . import HealthInfo, ParameterSpec, RunStatus
from .base import ApiModel


class NotebookInfo(ApiModel):
    """``GET /notebook-info``: suggested job name, parameters and ``metadata.ml_ship``."""

    name: str = Field(description="suggested job name (metadata.ml_ship.name or the file name)")
    parameters: list[ParameterSpec] = []
    config: dict[str, Any] = Field({}, description="metadata.ml_ship of the notebook, as written")


class LogChunk(ApiModel):
    """A WebSocket message of ``/runs/{id}/logs/ws``: log text and the offset after it."""

    model_config = ConfigDict(extra="ignore")  # unknown fields tolerated, as ever

    offset: int
    data: str
    skipped: int | None = Field(None, description="first message of a ``tail`` follow only: "
                                                   "bytes of the log before it, not sent")


class LogDone(ApiModel):
    """The last WebSocket message: the run ended and every byte of its log was sent."""

    model_config = ConfigDict(extra="ignore")  # unknown fields tolerated, as ever

    done: Literal[True] = True
    status: RunStatus


class Visitor(ApiModel):
    """Team mode: the user asking, as JupyterHub identified them (the lab's "mine" filter)."""

    model_config = ConfigDict(extra="ignore")  # unknown fields tolerated, as ever

    name: str
    groups: list[str] = Field([], description="their JupyterHub groups")
    admin: bool = Field(False, description="an ml-ship admin: may do everything")

    @classmethod
    def of(cls, actor: Any) -> Visitor | None:
        """The visitor an actor (``core.access.Actor``: name, groups, admin) is; None: none."""
        if actor is None:
            return None
        return cls(name=actor.name, groups=sorted(actor.groups), admin=actor.admin)


class ServerHealth(HealthInfo):
    """``GET /health``: the store's and backends' health and, in team mode, who asks."""

    user: Visitor | None = Field(None, description="team mode: the user asking (null outside "
                                                    "team mode)")
