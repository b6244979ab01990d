"""REST handlers: health, notebook info, ship, jobs, versions, runs. Each is a thin call of the
service in the thread pool; errors are mapped once, in ``MlShipHandler``."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..core.notebook_info import notebook_info
from ..errors import ShipError
from ..models import (
    CreateRunRequest,
    JobList,
    RollbackRequest,
    RunList,
    ScheduleEdit,
    ScheduleList,
    ShipRequest,
    VersionList,
)
from ._base import MlShipHandler
from ._models import AuditQuery, ListRunsQuery, NotebookInfoQuery, ServerHealth, Visitor

OPENAPI_FILE = Path(__file__).with_name("openapi.json")


class HealthHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        health = await self.call(self.service.health)
        user = Visitor.of(await self.actor())
        self.reply(ServerHealth(**dict(health), user=user))


@functools.cache
def _spec_file() -> dict[str, Any]:
    return json.loads(OPENAPI_FILE.read_text())


class OpenApiHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The checked-in spec, with ``servers`` pointing at this server's base URL."""
        spec = dict(await self.call(_spec_file))
        spec["servers"] = [{"url": url_path_join(self.base_url, "ml-ship/api")}]
        self.reply(spec)


class NotebookInfoHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        q = self.query(NotebookInfoQuery)
        path = await self.call(self.resolve_path, q.path)
        info = await self.call(notebook_info, path, self.ml_ship.max_notebook_bytes)
        self.reply(info)


class ShipHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        req = self.body(ShipRequest)
        path = await self.call(self.resolve_path, req.path)
        try:
            result = await self.call(
                self.service.ship, path, name=req.name, message=req.message,
                author=self.author, config=req.config, run=req.run,
                parameters=req.parameters, backend=req.backend, source=req.path,
                confine=self.root_dir(), actor=await self.actor(groups=True),
                ship_anyway=req.ship_anyway,
            )
        except ShipError as exc:  # name the file as the user knows it, not the server's path
            exc.message = exc.message.replace(str(path), req.path)
            raise
        self.reply(result, 201)


class SchedulesHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(ScheduleList(schedules=await self.call(self.service.schedules)))


class ScheduleHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def patch(self, kind: str, name: str) -> None:
        req = self.body(ScheduleEdit)
        self.reply(await self.call(self.service.edit_schedule, kind, name, cron=req.cron,
                                   timezone=req.timezone, paused=req.paused,
                                   actor=await self.actor() or self.author))


class JobsHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(JobList(jobs=await self.call(self.service.jobs, await self.actor())))


class JobHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.call(self.service.job, name, await self.actor()))

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await self.call(self.service.delete_job, name, await self.actor())
        self.set_status(204)
        self.finish()


class VersionsHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(VersionList(versions=await self.call(self.service.versions, name)))


class VersionHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str, number: str) -> None:
        self.reply(await self.call(self.service.version, name, self.version_number(number)))


class RollbackHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        req = self.body(RollbackRequest)
        self.reply(await self.call(self.service.rollback, name, req.version,
                                   actor=await self.actor() or self.author))


class RunsHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        q = self.query(ListRunsQuery)
        runs, cursor = await self.call(
            self.service.runs, job=q.job, status=q.status, limit=q.limit, cursor=q.cursor,
            pipeline_run_id=q.pipeline_run_id,
        )
        self.reply(RunList(runs=runs, next_cursor=cursor))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        req = self.body(CreateRunRequest)
        version = await self.call(self.service.environment_version, "job", req.job,
                                  req.environment, req.version)
        info = await self.call(self.service.run, req.job, version, req.parameters,
                               req.backend, actor=await self.actor())
        self.set_header("Location", self.request.path.rstrip("/") + f"/{info.id}")
        self.reply(info, 201)


class RunHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.reply(await self.call(self.service.get_run, run_id))

    @web.authenticated
    @authorized
    async def delete(self, run_id: str) -> None:
        await self.call(self.service.delete_run, run_id, await self.actor())
        self.set_status(204)
        self.finish()


class CancelHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        self.reply(await self.call(self.service.cancel, run_id, await self.actor()))


class AuditHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        q = self.query(AuditQuery)
        self.reply(await self.call(self.service.audit_trail, name, q.limit))
