"""The one base of the wire models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """A model of the REST API and the CLI's ``--json``: unknown fields are refused (a typo in a
    request is a 400 naming it, never a field silently dropped). The few messages that must
    accept more (the log WebSocket's, written before this rule) say so in their config."""

    model_config = ConfigDict(extra="forbid")
