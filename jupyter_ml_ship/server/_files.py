"""REST handlers of project files and artifacts: what a ship takes along, a version's files, two
versions compared, a run's artifacts (served confined to the run, never as active content)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import NotFound
from ._base import MlShipHandler
from ._models import ArtifactQuery, ProjectPreviewQuery, VersionDiffQuery

#: an artifact is the run's content, not ours: it may be shown, never run in the lab's origin
ARTIFACT_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                "media-src 'self'")
#: an HTML report (Evidently's drift report, a plot) is a page of inline scripts: they run, but in
#: an opaque origin (no allow-same-origin: no cookies, no lab) that can fetch nothing
ARTIFACT_HTML_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
                     "img-src 'self' data: blob:; style-src 'unsafe-inline'; font-src data:; "
                     "media-src 'self'")
CHUNK = 1 << 20


class ProjectPreviewHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        q = self.query(ProjectPreviewQuery)
        path = await self.call(self.resolve_path, q.path)
        self.reply(await self.call(self.service.project_preview, path, self.root_dir(), q.root,
                                   await self.actor()))


class VersionFilesHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str, number: str) -> None:
        self.reply(await self.call(self.service.version_files, name,
                                   self.version_number(number)))


class VersionNotebookHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str, number: str) -> None:
        """The notebook a version stored (JSON), to be shown read-only."""
        n = self.version_number(number)
        path = await self.call(self.service.version_notebook, name, n)
        try:
            text = await self.call(path.read_text, encoding="utf-8")
        except FileNotFoundError:
            raise NotFound(f"job {name!r} v{n}: its notebook {path.name} is missing from the "
                           "store") from None
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(text)


class VersionDiffHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        q = self.query(VersionDiffQuery)
        self.reply(await self.call(self.service.diff_versions, name, q.a, q.b))


class RunFilesHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.reply(await self.call(self.service.run_files, run_id))


class RunFileHandler(MlShipHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str, path: str) -> None:
        q = self.query(ArtifactQuery)
        target, kind = await self.call(self.service.run_file, run_id, path)
        name = quote(Path(path).name)
        self.set_header("Content-Type", kind)
        self.set_header("Content-Security-Policy",
                        ARTIFACT_HTML_CSP if kind.startswith("text/html") else ARTIFACT_CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Disposition",
                        f"{'attachment' if q.download else 'inline'}; filename*=UTF-8''{name}")
        self.set_header("Content-Length", str(target.stat().st_size))
        with open(target, "rb") as fh:
            while chunk := await self.call(fh.read, CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish()
