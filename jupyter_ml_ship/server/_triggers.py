"""REST handlers of runs started by events (``core.triggers``).

``POST /triggers/{token}`` is the one ml-ship route with no Jupyter authentication: the
trigger's token IS the credential (DESIGN.md). It is an explicit exception: the handler says
``@allow_unauthenticated`` and skips the XSRF check (no cookie, no browser session: a CI job or
another service posts it). The token is looked up by its SHA-256 and compared in constant time;
an unknown or revoked token is a 404 that names nothing and starts nothing, and the token never
reaches a log line (the request path is logged as ``/triggers/…``).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from tornado import web

from ..models.triggers import TriggerList, TriggerParameters
from ._base import MlShipHandler


class TriggersHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(TriggerList(triggers=await self.call(self.service.triggers)))


class JobTriggerHandler(MlShipHandler):
    """A job's webhook: a new secret (shown once) or revoked."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        self.reply(await self.call(self.service.trigger_token, name, await self.actor()), 201)

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        self.reply(await self.call(self.service.revoke_trigger, name, await self.actor()))


class PipelineTriggerHandler(MlShipHandler):
    """A pipeline's webhook (its file's ``triggers:``): a new secret (shown once) or revoked."""

    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        self.reply(await self.call(self.service.trigger_token, name, await self.actor(),
                                   "pipeline"), 201)

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        self.reply(await self.call(self.service.revoke_trigger, name, await self.actor(),
                                   "pipeline"))


class WebhookHandler(MlShipHandler):
    """POST /triggers/{token}: the token is the credential (see the module's docstring)."""

    def check_xsrf_cookie(self) -> None:
        """Not applicable: no cookie authenticates this route, the token in its path does."""
        return None

    async def prepare(self) -> None:  # type: ignore[override]
        # the access log and error lines name the route, never the token
        self.request.path = self.request.uri = "/ml-ship/api/triggers/…"
        await super().prepare()

    @allow_unauthenticated
    async def post(self, token: str) -> None:
        params = self.body(TriggerParameters).model_dump()
        self.reply(await self.call(self.service.fire_webhook, token, params), 201)

