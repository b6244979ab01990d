"""REST handler of a job's health: its checked outputs over its recent runs."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ConfigDict, Field
from tornado import web

from ..core.checks.health import DEFAULT_LIMIT, MAX_LIMIT, job_health
from ._base import MlShipHandler


class HealthQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                       description="the series cover at most this many recent succeeded runs")


class JobHealthHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        q = self.query(HealthQuery)
        self.reply(await self.call(job_health, self.service, name, q.limit))
