"""REST handler of "Send a test": a real message to notification targets (the Ship dialog)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..core.notify_test import send_test
from ..errors import BadInput
from ..models import NotifyTestRequest, NotifyTestResponse
from ._base import MlShipHandler

__all__ = ["NotifyTestHandler", "NotifyTestRequest", "NotifyTestResponse"]


class NotifyTestHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        if not self.request.body:
            raise BadInput("body: a JSON object with 'email' and/or 'webhook' is needed")
        req = self.body(NotifyTestRequest)
        self.reply(await self.call(send_test, self.service, req, self.author or ""))
