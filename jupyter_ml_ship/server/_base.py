"""The base of every ml-ship handler: authentication, the one error mapping, work off the loop.

Errors, whatever raised them, leave the server as ``{"error": CODE, "message": TEXT}``:

    ShipError subclasses         their status (400, 404, 409, 413, 503, 507) and code
    a full disk (any wrapping)   507 insufficient_storage (``errors.storage_error``)
    pydantic ValidationError     400 bad_request, the message names the field
    tornado HTTPError            its status (403 forbidden, 405 …)
    anything else                500 internal_error, a generic message with a reference; the
                                 traceback goes to the server log only

Every route is behind Jupyter's authentication (``@web.authenticated`` + ``@authorized``) with
ONE documented exception: ``POST /triggers/{token}`` (``_triggers.WebhookHandler``), a job's
webhook trigger, whose secret token in the path is the credential (looked up by its SHA-256,
compared in constant time, 404 when unknown; ``@allow_unauthenticated``; XSRF does not apply:
no cookie authenticates it). A new unauthenticated route needs the same reasoning here.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any, TypeVar

from jupyter_core.paths import is_hidden
from jupyter_server.base.handlers import APIHandler
from pydantic import BaseModel, ValidationError
from tornado.web import HTTPError

from ..config import MlShip
from ..core import ShipService
from ..core.access import Actor
from ..errors import BadInput, InvalidPipeline, NotFound, ShipError, TooLarge, storage_error
from ..untrusted import load_json

if TYPE_CHECKING:
    from tornado.concurrent import Future
    from tornado.web import _HeaderTypes

#: the authorizer's resource name of every ml-ship route ("read" for GET, "write" otherwise)
AUTH_RESOURCE = "ml_ship"
SERVICE_KEY = "ml_ship_service"
EXECUTOR_KEY = "ml_ship_executor"

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

#: jupyter_server's IdentityProvider names token users uuid4().hex / "Anonymous <moon>"
_ANONYMOUS = re.compile(r"[0-9a-f]{32}")
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 503: "unavailable",
          507: "insufficient_storage"}


def validation_message(exc: ValidationError, where: str = "") -> str:
    """``body.parameters: Input should be a valid dictionary`` (at most three problems)."""
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in (where, *err["loc"]) if x != "")
        parts.append(f"{loc or 'body'}: {err['msg']}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def map_error(exc: BaseException | None) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of an exception; 500 says nothing about internals."""
    if isinstance(exc, ShipError):
        return exc.http_status, exc.code, exc.message
    if isinstance(exc, ValidationError):
        return 400, "bad_request", validation_message(exc)
    if isinstance(exc, HTTPError):
        try:
            message = (exc.log_message or "") % exc.args if exc.args else exc.log_message
        except TypeError:
            message = exc.log_message
        status = exc.status_code
        if status == 403 and not message:
            message = "not authenticated: log in, or send the header 'Authorization: token …'"
        return status, _CODES.get(status, "error"), message or exc.reason or f"HTTP {status}"
    full = storage_error(exc) if exc is not None else None
    if full is not None:
        return full.http_status, full.code, full.message
    return 500, "internal_error", "internal server error"


class ServiceMixin:
    """The service, the thread pool and the error mapping, for HTTP and WebSocket handlers."""

    auth_resource = AUTH_RESOURCE
    settings: dict[str, Any]
    request: Any
    log: Any
    current_user: Any
    _reason: str

    if TYPE_CHECKING:  # of the (jupyter_server) tornado handler each user of the mixin is
        def clear_header(self, name: str) -> None: ...

        def set_status(self, status_code: int, reason: str | None = None) -> None: ...

        def set_header(self, name: str, value: _HeaderTypes) -> None: ...

        def finish(self, *args: Any, **kwargs: Any) -> Future[Any]: ...

    @property
    def service(self) -> ShipService:
        return self.settings[SERVICE_KEY]

    @property
    def ml_ship(self) -> MlShip:
        return self.service.settings

    @property
    def author(self) -> str | None:
        """The Jupyter user's name; None (the service's OS user) for an anonymous token user."""
        user = self.current_user
        username = str(getattr(user, "username", "") or "")
        if _ANONYMOUS.fullmatch(username) and str(getattr(user, "name", "")).startswith(
            "Anonymous"
        ):
            return None
        return username or None

    async def actor(self, groups: bool = False) -> Actor | None:
        """Team mode: the visitor as JupyterHub identified them (its OAuth user model: name,
        groups, scopes); ``groups``: also every group of the hub, to check owner groups. None
        outside team mode (single-user: nothing is checked). No header is trusted: the
        identity is JupyterHub's, checked by its identity provider before this runs."""
        if not self.ml_ship.team_mode:
            return None
        from ..core import hub

        model = getattr(self.current_user, "hub_user", None)
        if model is None:  # team mode behind no hub: the Jupyter user, no groups
            return Actor.of(self.author or "") if self.author else None
        known = await self.call(hub.hub_groups) if groups else None
        return hub.actor_of(model, self.ml_ship, known)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking service call in the extension's thread pool."""
        executor: Executor = self.settings[EXECUTOR_KEY]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        if exc is None:
            status, code, message = status_code, _CODES.get(status_code, "error"), self._reason
        else:
            status, code, message = map_error(exc)
        if status == 500:
            ref = getattr(self, "_error_ref", "")
            message = f"internal server error (reference {ref} in the server log)"
        self.clear_header("Content-Disposition")
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        body: dict[str, Any] = {"error": code, "message": message}
        if isinstance(exc, InvalidPipeline):
            body["steps"] = exc.steps
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        status, _code, message = map_error(value)
        if status < 500 or isinstance(value, ShipError) or status == 507:  # told to the client
            self.log.info("ml-ship %s %s -> %d: %s", self.request.method,
                          self.request.path, status, message)
            return
        self._error_ref = secrets.token_hex(4)
        self.log.error("ml-ship %s %s failed (reference %s)", self.request.method,
                       self.request.path, self._error_ref, exc_info=(typ, value, tb))


class MlShipHandler(ServiceMixin, APIHandler):
    """JSON API handler over the one ``ShipService`` of the extension."""

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        limit = self.ml_ship.max_request_bytes
        size = len(self.request.body or b"")
        if size > limit:
            raise TooLarge(f"request body is {size} bytes, over the limit of {limit} bytes "
                           "(MlShip.max_request_bytes)")

    # ---- input --------------------------------------------------------------------------

    def body(self, model: type[M]) -> M:
        raw = self.request.body or b"{}"
        try:
            data = load_json(raw, "body")  # nested too deep: a BadInput naming the field
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # lone surrogates
        except (ValueError, UnicodeError) as exc:
            raise BadInput(f"body: not valid JSON text: {exc}") from None
        if not isinstance(data, dict):
            raise BadInput(f"body: a JSON object is needed, got {type(data).__name__}")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise BadInput(validation_message(exc, "body")) from None

    def query(self, model: type[M]) -> M:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        args.pop("token", None)  # jupyter's own auth parameter
        args.pop("no_track_activity", None)
        try:
            return model.model_validate(args)
        except ValidationError as exc:
            raise BadInput(validation_message(exc, "query")) from None

    def version_number(self, text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise BadInput(f"version must be an integer, got {text!r}") from None
        if not 1 <= number <= 2**31 - 1:
            raise NotFound(f"no version {number}: version numbers start at 1")
        return number

    def resolve_path(self, api_path: str, folder_ok: bool = False) -> Path:
        """The file of a server-root-relative path; nothing outside the root, no hidden files."""
        root_real = self.root_dir()
        clean = api_path.replace("\\", "/")
        if not clean.strip():
            raise BadInput("path: a notebook path is needed")
        if clean.startswith("/") or PureWindowsPath(api_path).drive or "\x00" in clean:
            raise BadInput(f"path {api_path!r}: give a path relative to the server root")
        parts = [p for p in PurePosixPath(clean).parts if p not in ("", ".")]
        if ".." in parts:
            raise BadInput(f"path {api_path!r} is outside the server root")
        real = root_real.joinpath(*parts).resolve()
        if real != root_real and root_real not in real.parents:
            raise BadInput(f"path {api_path!r} leads outside the server root (symbolic link)")
        if not getattr(self.contents_manager, "allow_hidden", False) and is_hidden(
            str(real), str(root_real)
        ):
            raise BadInput(f"path {api_path!r} is hidden (ContentsManager.allow_hidden is off)")
        if not (real.is_file() or (folder_ok and real.is_dir())):
            raise NotFound(f"no {'file' if folder_ok else 'notebook'} at {api_path!r} under "
                           "the server root")
        return real

    def root_dir(self) -> Path:
        root = getattr(self.contents_manager, "root_dir", None)
        if not root:
            raise BadInput("shipping needs a contents manager that keeps files on disk")
        return Path(root).resolve()

    # ---- output -------------------------------------------------------------------------

    def reply(self, data: BaseModel | dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        if isinstance(data, BaseModel):
            self.finish(data.model_dump_json())
        else:
            self.finish(json.dumps(data))

class NotFoundHandler(MlShipHandler):
    """Anything under the API base that is no route: a JSON 404, not an HTML page."""

    def _missing(self, *args: Any, **kwargs: Any) -> None:
        raise NotFound(f"no such API route: {self.request.method} {self.request.path}")

    get = post = put = patch = delete = _missing  # type: ignore[assignment]
