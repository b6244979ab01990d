"""REST handlers of run history: a job's (or a pipeline's) runs as a table, two runs
compared."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ConfigDict, Field
from tornado import web

from ..core.history import MAX_HISTORY, compare_runs, run_history_json
from ..core.pipeline_history import pipeline_history
from ..models import RunStatus
from ._base import MlShipHandler


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(5000, ge=1, le=MAX_HISTORY, description="most runs, newest first")
    status: RunStatus | None = Field(None, description="only runs in this status")


class CompareQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: str = Field(description="id of the first run")
    b: str = Field(description="id of the second run")


class JobHistoryHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        q = self.query(HistoryQuery)
        # RunHistory's JSON written by the store itself (core.history): no 5,000 objects
        self.finish(await self.call(run_history_json, self.service, name, q.limit, q.status))


class CompareRunsHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        q = self.query(CompareQuery)
        self.reply(await self.call(compare_runs, self.service, q.a, q.b))


class PipelineHistoryHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        q = self.query(HistoryQuery)
        history = await self.call(pipeline_history, self.service, name, q.limit)
        if q.status:
            history.runs = [r for r in history.runs if r.status == q.status]
        self.reply(history)
