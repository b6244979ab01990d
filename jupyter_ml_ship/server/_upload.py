"""``POST /ship/upload``: ship a project sent as ONE tar stream (``ml-ship --url … ship``).

The body is read as it arrives (tornado's ``stream_request_body``) and unpacked by a worker
thread at the same time (``notebook.bundle.unpack``: regular files and folders only, names
confined, this server's limits → 413, all or nothing), into a fresh folder under the home;
then the one ``ShipService.ship`` runs on it exactly as on a notebook of the server's own
files, and the folder is removed. Nothing is stored when anything is refused.
"""

from __future__ import annotations

import asyncio
import os
import queue
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import ensure_async
from pydantic import Field
from tornado import web

from ..errors import BadInput, ShipError
from ..notebook.bundle import unpack
from ..untrusted import load_json
from ._base import MlShipHandler
from ._models import _Query

UPLOADS = "uploads"
#: an upload folder this old is left from a server that stopped mid-upload
STALE_AFTER = 24 * 3600
_END, _CUT = object(), object()  # the body's end; the connection closed before it


class ShipUploadQuery(_Query):
    """``POST /ship/upload``: what to ship from the uploaded project."""

    notebook: str = Field(min_length=1, pattern=r"\S",
                          description="the notebook's path inside the uploaded project")
    name: str | None = Field(None, description="job name (default: metadata.ml_ship.name or "
                                               "the file name)")
    message: str | None = Field(None, description="what changed in this version")
    run: bool = Field(False, description="start a run of the shipped version")
    backend: str | None = Field(None, description="backend of that run")
    parameters: str | None = Field(None, description="that run's parameters, a JSON object")


def tidy_stale(uploads: Path, age: float = STALE_AFTER) -> None:
    """Remove what a server that stopped mid-upload left (folders older than ``age`` s)."""
    try:
        entries = list(os.scandir(uploads))
    except FileNotFoundError:
        return
    now = time.time()
    for entry in entries:
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime > age:
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            continue


class _Feed:
    """The request body as a file for the unpacking thread, fed from the event loop; bounded,
    so a slow disk slows the upload instead of filling the memory."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=32)
        self.stopped = threading.Event()  # the reader is done (finished or refused)
        self.cut = threading.Event()  # the client went away before the end
        self.rest = memoryview(b"")

    def read(self, n: int = -1) -> bytes:
        while not self.rest:
            try:
                chunk = self.chunks.get(timeout=0.2)
            except queue.Empty:
                chunk = _CUT if self.cut.is_set() else None
            if chunk is _END:
                self.chunks.put(_END)
                return b""
            if chunk is _CUT:
                raise BadInput("uploaded project: the connection closed before its end")
            if chunk is not None:
                self.rest = memoryview(chunk)
        n = len(self.rest) if n is None or n < 0 else n
        data, self.rest = self.rest[:n], self.rest[n:]
        return bytes(data)

    def _put_waiting(self, item: Any) -> None:
        while not self.stopped.is_set():
            try:
                self.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    async def put(self, item: Any) -> None:
        if self.stopped.is_set():
            return  # refused already: the rest of the body is read and dropped
        try:
            self.chunks.put_nowait(item)
        except queue.Full:
            await asyncio.to_thread(self._put_waiting, item)


@web.stream_request_body
class ShipUploadHandler(MlShipHandler):
    feed: _Feed | None = None
    unpacked: asyncio.Future[Path] | None = None
    folder: Path | None = None

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        user = self.current_user  # checked before the body is read: no upload for nobody
        if not user:
            raise web.HTTPError(403)
        if not await ensure_async(self.authorizer.is_authorized(self, user, "write",
                                                                self.auth_resource)):
            raise web.HTTPError(403, "not authorized to ship")
        q = self.q = self.query(ShipUploadQuery)
        self.parameters = None
        if q.parameters:
            try:
                self.parameters = load_json(q.parameters.encode(), "query.parameters")
            except (ValueError, UnicodeError) as exc:
                raise BadInput(f"query.parameters: not valid JSON text: {exc}") from None
            if not isinstance(self.parameters, dict):
                raise BadInput("query.parameters: a JSON object is needed")
        s = self.ml_ship
        await self.call(tidy_stale, self.service.home / UPLOADS)
        self.folder = self.service.home / UPLOADS / secrets.token_hex(12)
        self.feed = feed = _Feed()

        def work(folder: Path) -> Path:
            try:
                return unpack(feed, folder, q.notebook, max_files=s.max_project_files,
                              max_bytes=s.max_project_bytes,
                              max_notebook_bytes=s.max_notebook_bytes)
            finally:
                feed.stopped.set()

        self.unpacked = asyncio.ensure_future(self.call(work, self.folder))

    async def data_received(self, chunk: bytes) -> None:
        if self.feed is not None:
            await self.feed.put(chunk)

    def on_connection_close(self) -> None:
        if self.feed is not None:
            self.feed.cut.set()
        super().on_connection_close()

    @web.authenticated
    @authorized
    async def post(self) -> None:
        assert self.feed is not None and self.unpacked is not None and self.folder is not None
        await self.feed.put(_END)
        notebook = await self.unpacked
        q, folder = self.q, self.folder
        try:
            result = await self.call(
                self.service.ship, notebook, name=q.name, message=q.message,
                author=self.author, run=q.run, parameters=self.parameters, backend=q.backend,
                source=q.notebook, confine=folder, actor=await self.actor(groups=True))
        except ShipError as exc:  # name files as the client knows them
            exc.message = exc.message.replace(str(folder) + "/", "").replace(
                str(folder), "the uploaded project")
            raise
        finally:
            await self.call(shutil.rmtree, folder, True)
        self.reply(result, 201)

    def on_finish(self) -> None:
        if self.unpacked is not None and self.folder is not None:  # ended midway: no trace
            folder = self.folder

            def tidy(done: asyncio.Future[Path]) -> None:
                if not done.cancelled():
                    done.exception()  # told to the client already (or nobody to tell)
                shutil.rmtree(folder, True)

            if self.feed is not None:
                self.feed.cut.set()
            self.unpacked.add_done_callback(tidy)
