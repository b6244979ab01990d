"""Run logs (by offset, and followed live over a WebSocket) and output notebooks (JSON or HTML).

Offsets count bytes of ``log.txt``. A chunk never ends inside a UTF-8 character, so each
message decodes cleanly and the next one starts exactly where it stopped: no byte is skipped or
sent twice.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from pydantic import ValidationError
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..errors import BadInput, ShipError
from ..models import TERMINAL_STATUSES
from ._base import _CODES, MlShipHandler, ServiceMixin, map_error, validation_message
from ._models import LogChunk, LogDone, LogFollowQuery, LogQuery, OutputQuery

#: bytes per WebSocket message at most
CHUNK = 256 * 1024
#: idle polling of the log file: starts fast, backs off to this many seconds
MAX_IDLE = 0.5
#: what an HTML report may load: its own inline styles and data: images, nothing that runs
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
              "frame-ancestors 'self'")


def complete_utf8(data: bytes) -> bytes:
    """The longest prefix of ``data`` that does not end inside a UTF-8 character."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: look further back for the lead
            continue
        if byte < 0x80:
            return data
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4
        return data if back >= need else data[:-back]
    return data


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class LogHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        q = self.query(LogQuery)
        data, _ = await self.call(self.service.read_log, run_id, q.offset)
        chunk = complete_utf8(data) or data  # hold back a split character unless it is all
        self.set_header("X-Next-Offset", str(q.offset + len(chunk)))
        self.set_header("Access-Control-Expose-Headers", "X-Next-Offset")
        self.finish(_decode(chunk), set_content_type="text/plain; charset=UTF-8")


class OutputHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        q = self.query(OutputQuery)
        path = await self.call(self.service.output_path, run_id)
        if q.format == "html":
            info = await self.call(self.service.get_run, run_id, reconcile=False)
            title = f"{info.job} v{info.version} — run {info.id} ({info.status})"
            html = await self.call(_html_report, path, title)
            self.set_header("Content-Security-Policy", REPORT_CSP)
            self.set_header("Content-Disposition",
                            f'inline; filename="{info.job}-{info.id}.html"')
            self.finish(html, set_content_type="text/html; charset=UTF-8")
        else:
            self.finish(await self.call(path.read_text, encoding="utf-8"))


def _html_report(path: Path, title: str) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(path), as_version=4)
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nb, resources={"metadata": {"name": title}}
    )
    return html


class LogSocketHandler(ServiceMixin, WebSocketMixin, WebSocketHandler, JupyterHandler):
    """``/runs/{id}/logs/ws?offset=N``: ``{"offset", "data"}`` messages, then
    ``{"done": true, "status"}`` once the run ended and its whole log was sent."""

    _task: asyncio.Task[None] | None = None

    def set_default_headers(self) -> None:
        """No CSP/HTML headers on a WebSocket handshake."""

    def get_login_url(self) -> str:
        raise web.HTTPError(403)

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> Any:
        """Tornado refuses a request it cannot upgrade (a plain GET, no ``Connection:
        Upgrade``, a cross-origin page, an old protocol) with plain text: said here as the
        JSON error body of every route, ``{"error", "message"}``."""
        status = self.get_status()
        if (self.ws_connection is None and status >= 400
                and self._headers.get("Content-Type") != "application/json"):
            text = chunk.decode(errors="replace") if isinstance(chunk, bytes) else chunk
            code = _CODES.get(status, "upgrade_required" if status == 426 else "error")
            message = text if isinstance(text, str) and text else self._reason
            if status in (400, 426):
                message += (" This route is a WebSocket: connect with a WebSocket client (GET "
                            "/runs/{run_id}/logs reads the log over plain HTTP)")
            self.set_header("Content-Type", "application/json")
            chunk = json.dumps({"error": code, "message": message})
        return super().finish(chunk)

    @ws_authenticated
    @authorized
    async def get(self, run_id: str, *args: Any, **kwargs: Any) -> None:
        try:
            q = LogFollowQuery.model_validate({
                "offset": self.get_query_argument("offset", "0"),
                "tail": self.get_query_argument("tail", None),
            })
        except ValidationError as exc:
            raise BadInput(validation_message(exc, "query")) from None
        await self.call(self.service.get_run, run_id, reconcile=False)  # 404 before upgrading
        self._offset, self._skipped = q.offset, 0
        if q.tail is not None:
            start = await self.call(self.service.log_tail_start, run_id, q.tail)
            if start > self._offset:
                self._offset = self._skipped = start
        self._run_id = run_id
        await super().get(run_id, *args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().open(*args, **kwargs)
        self._task = asyncio.ensure_future(self._follow())

    def on_message(self, message: str | bytes) -> None:
        """Clients have nothing to say; the stream is one-way."""

    def on_close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _send(self, message: LogChunk | LogDone) -> None:
        await self.write_message(message.model_dump_json(exclude_none=True))

    async def _follow(self) -> None:
        run_id, offset, idle = self._run_id, self._offset, 0.02
        try:
            if self._skipped:
                await self._send(LogChunk(offset=offset, data="", skipped=self._skipped))
            while True:
                data, _ = await self.call(self.service.read_log, run_id, offset, CHUNK)
                chunk = complete_utf8(data)
                if chunk:
                    offset += len(chunk)
                    await self._send(LogChunk(offset=offset, data=_decode(chunk)))
                    idle = 0.02
                    continue
                info = await self.call(self.service.get_run, run_id)
                if info.status in TERMINAL_STATUSES:
                    while True:  # the rest, written before the result; a broken tail as is
                        data, _ = await self.call(self.service.read_log, run_id, offset, CHUNK)
                        if not data:
                            break
                        offset += len(data)
                        await self._send(LogChunk(offset=offset, data=_decode(data)))
                    await self._send(LogDone(status=info.status))
                    self.close(1000, "run ended")
                    return
                await asyncio.sleep(idle)
                idle = min(idle * 1.5, MAX_IDLE)
        except (WebSocketClosedError, asyncio.CancelledError):
            return
        except Exception as exc:
            status, code, message = map_error(exc)
            if not isinstance(exc, ShipError):
                self.log.error("ml-ship log stream of run %s failed", run_id, exc_info=True)
                message = "internal server error"
            try:
                await self.write_message(json.dumps({"error": code, "message": message}))
            except WebSocketClosedError:
                pass
            self.close(1011 if status >= 500 else 1008, code)
