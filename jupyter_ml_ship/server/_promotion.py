"""REST handler of promotion: point an environment (default production, the current version) at
a version, through the job's gate (``core.promotion``, ``core.environments``)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..models import PromoteRequest
from ._base import MlShipHandler


class PromoteHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str, number: str) -> None:
        req = self.body(PromoteRequest)
        self.reply(await self.call(self.service.promote, name, self.version_number(number),
                                   req.force, actor=await self.actor() or self.author,
                                   to=req.to))
