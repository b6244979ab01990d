"""Pipeline routes: ship a pipeline file (or a folder of notebooks), versions, runs, cancel.

Same shape as the job routes. A pipeline file inside the server root may not reach a notebook
outside it. Status changes a handler makes are emitted at once; the reconciler emits the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import NotFound, ShipError
from ..models import PromoteRequest, RollbackRequest
from ..pipelines.models import (
    PipelineList,
    PipelineRunInfo,
    PipelineRunList,
    PipelineVersionList,
    ShipPipelineRequest,
    StartPipelineRunRequest,
)
from ._base import MlShipHandler
from ._models import ListPipelineRunsQuery, PipelineInfoQuery, PipelineRunsOfQuery

#: settings key of the extension's ``emit_pipeline(PipelineRunInfo)``
PIPELINE_EMIT_KEY = "ml_ship_emit_pipeline"


def check_inside_root(path: Path, root: Path, api_path: str) -> None:
    """Every step notebook of the pipeline at ``path`` lies inside the server root (the one
    confinement check of user-named paths, ``untrusted.inside``, on ``STEP_PATH_KEYS``)."""
    from ..pipelines.spec import load_pipeline

    load_pipeline(path, check_graph=False, confine=root)  # the graph: checked by its next reader


class _PipelineHandler(MlShipHandler):
    async def resolve_pipeline(self, api_path: str) -> Path:
        path = await self.call(self.resolve_path, api_path, folder_ok=True)
        await self.call(check_inside_root, path, self.root_dir(), api_path)
        return path

    def emitted(self, info: PipelineRunInfo) -> PipelineRunInfo:
        emit = self.settings.get(PIPELINE_EMIT_KEY)
        if emit is not None:
            emit(info)
        return info

    def _user_path(self, exc: ShipError, path: Path, api_path: str) -> ShipError:
        """The message in the user's terms: paths relative to the server root, never the
        server's own file system layout."""
        root = str(self.root_dir()).rstrip("/") + "/"
        exc.message = exc.message.replace(str(path), api_path).replace(root, "")
        return exc


class PipelinesHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(PipelineList(pipelines=await self.call(self.service.pipelines,
                                                          await self.actor())))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        req = self.body(ShipPipelineRequest)
        path = await self.resolve_pipeline(req.path)
        try:
            result = await self.call(self.service.ship_pipeline, path, message=req.message,
                                     author=self.author, actor=await self.actor(groups=True),
                                     confine=self.root_dir())
        except ShipError as exc:
            raise self._user_path(exc, path, req.path) from None
        self.reply(result, 201)


class PipelineInfoHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        q = self.query(PipelineInfoQuery)
        path = await self.resolve_pipeline(q.path)
        try:
            info = await self.call(self.service.describe_pipeline_file, path)
        except ShipError as exc:
            raise self._user_path(exc, path, q.path) from None
        info.path = q.path
        self.reply(info)


class PipelineHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.call(self.service.pipeline, name, await self.actor()))

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await self.call(self.service.delete_pipeline, name, await self.actor())
        self.set_status(204)
        self.finish()


class PipelineVersionsHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        versions = await self.call(self.service.pipeline_versions, name)
        self.reply(PipelineVersionList(versions=versions))


class PipelineVersionHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str, number: str) -> None:
        n = self.version_number(number)
        self.reply(await self.call(self.service.pipeline_version, name, n))


class PipelineRollbackHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        req = self.body(RollbackRequest)
        self.reply(await self.call(self.service.rollback_pipeline, name, req.version,
                                   actor=await self.actor() or self.author))


class PipelinePromoteHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str, number: str) -> None:
        req = self.body(PromoteRequest)
        self.reply(await self.call(self.service.promote_pipeline, name,
                                   self.version_number(number), req.to,
                                   await self.actor() or self.author))


class PipelineRunsOfHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        q = self.query(PipelineRunsOfQuery)
        runs, cursor = await self.call(self.service.pipeline_runs, pipeline=name,
                                       status=q.status, limit=q.limit, cursor=q.cursor)
        self.reply(PipelineRunList(runs=runs, next_cursor=cursor))

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        req = self.body(StartPipelineRunRequest)
        if req.version is not None and not 1 <= req.version <= 2**31 - 1:
            raise NotFound(f"pipeline {name!r} has no version {req.version}")
        kwargs: dict[str, Any] = {"use_cache": req.use_cache, "parallelism": req.parallelism,
                                  "actor": await self.actor()}
        version = await self.call(self.service.environment_version, "pipeline", name,
                                  req.environment, req.version)
        info = await self.call(self.service.run_pipeline, name, version, req.parameters,
                               req.backend, **kwargs)
        self.set_header("Location", self.base_url.rstrip("/")
                        + f"/ml-ship/api/pipeline-runs/{info.id}")
        self.reply(self.emitted(info), 201)


class PipelineRunsHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        q = self.query(ListPipelineRunsQuery)
        runs, cursor = await self.call(self.service.pipeline_runs, pipeline=q.pipeline,
                                       status=q.status, limit=q.limit, cursor=q.cursor)
        self.reply(PipelineRunList(runs=runs, next_cursor=cursor))


class PipelineRunHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.reply(self.emitted(await self.call(self.service.get_pipeline_run, run_id)))


class PipelineCancelHandler(_PipelineHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        self.reply(self.emitted(await self.call(self.service.cancel_pipeline_run, run_id,
                                                await self.actor())))
