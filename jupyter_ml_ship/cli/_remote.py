"""``ml-ship --url URL --token TOKEN …``: the same commands against a Jupyter server's REST API.

``RemoteService`` answers the calls the commands make of ``ShipService`` (ship, run, get_run,
read_log, runs, jobs, versions, rollback, promote, cancel, …) over httpx with the same models,
so the commands print the same lines and exit with the same codes; only where the data comes
from differs. A JupyterHub user server (``https://hub/user/ada/``) or a plain ``jupyter
server`` (``http://host:8888/``); the token goes in ``Authorization: token …``.

``ship`` collects the project exactly as a local ship does (``scan_project``: ``.shipignore``,
``include``/``exclude``, links leaving the folder refused, ``--max-bytes``/``--max-files``)
and sends it as one tar stream to ``POST /ship/upload``, where the server checks it again
with its own limits.

Errors are ``ShipError``s as locally (exit 2, one line): the server's ``{"error", "message"}``
by its status; a refused token (403, or a redirect to a login page) is ``Forbidden``; a server
that cannot be reached is ``BackendUnavailable`` ("cannot reach URL"), like a backend that is
down.
"""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from ..errors import (
    BackendUnavailable,
    BadInput,
    Conflict,
    Forbidden,
    InsufficientStorage,
    NotFound,
    ShipError,
    TooLarge,
)
from ._remote_pipelines import RemotePipelines
from ._remote_triggers import RemoteTriggers

_BY_STATUS: dict[int, type[ShipError]] = {400: BadInput, 403: Forbidden, 404: NotFound,
                                          409: Conflict, 413: TooLarge,
                                          503: BackendUnavailable, 507: InsufficientStorage}
API = "ml-ship/api"


class NotRemote(BadInput, AttributeError):
    """A service call no REST route answers yet: exit 2 with a message, and still an
    ``AttributeError`` for ``getattr(svc, name, default)``."""


def _q(name: str) -> str:
    return quote(str(name), safe="")


class RemoteService(RemotePipelines, RemoteTriggers):
    """The ``ShipService`` calls of the commands, answered by a remote server (its pipeline
    calls: ``RemotePipelines``, its trigger calls: ``RemoteTriggers``)."""

    remote = True
    #: how often ``--wait`` asks for news (a local follow reads a file; this is a request)
    follow_interval = 0.25

    def __init__(self, url: str, token: str | None, settings: Any):
        if not url.startswith(("http://", "https://")):
            raise BadInput(f"--url {url!r}: give the server's http:// or https:// address "
                           "(a JupyterHub user server: https://HUB/user/NAME/)")
        self.url = url.rstrip("/") + "/"
        self.token = token
        self.settings = settings  # the limits this client checks a project against first
        headers = {"Authorization": f"token {token}"} if token else {}
        self.http = httpx.Client(headers=headers, follow_redirects=False,
                                 timeout=httpx.Timeout(120.0, connect=15.0))

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotRemote(f"this command does not work against a remote server yet (--url / "
                       f"ML_SHIP_URL; it needs {name}): run it on the server itself")

    # ---- transport ----------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        target = self.url + path
        try:
            r = self.http.request(method, target, **kwargs)
        except httpx.TransportError as exc:
            raise BackendUnavailable(f"cannot reach {self.url}: {exc or type(exc).__name__}"
                                     ) from None
        if r.status_code >= 300:
            self.fail(r)
        return r

    def fail(self, r: httpx.Response) -> NoReturn:
        try:
            body = r.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        auth = r.status_code in (401, 403) and (error is None or str(message or "").startswith(
            "not authenticated"))
        if auth or 300 <= r.status_code < 400:  # a hub sends the tokenless to its login page
            what = "no token was given (--token or ML_SHIP_TOKEN)" if not self.token else \
                "the token was refused"
            raise Forbidden(f"{self.url}: {what} (HTTP {r.status_code}); check --token / "
                            "ML_SHIP_TOKEN")
        if error is None:  # not ml-ship's JSON: a proxy's page, or no extension there
            hint = (" (is jupyter_ml_ship installed and enabled on that server?)"
                    if r.status_code == 404 else "")
            raise ShipError(f"{r.request.method} {r.request.url}: HTTP {r.status_code} "
                            f"{r.reason_phrase}{hint}")
        raise _BY_STATUS.get(r.status_code, ShipError)(str(message))

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, f"{API}/{path}", **kwargs).json()

    # ---- jobs -----------------------------------------------------------------------------

    def ship(self, notebook: str | Path, *, name: str | None = None, message: str | None = None,
             run: bool = False, parameters: dict[str, Any] | None = None,
             backend: str | None = None, **_: Any) -> Any:
        import json

        from ..models import ShipResult
        from ..notebook import bundle

        scan = self.collect(Path(notebook))
        self.request("GET", "api/me")  # the token, before sending a big folder for nothing
        params: dict[str, Any] = {"notebook": scan.notebook, "run": "true" if run else "false"}
        for key, value in (("name", name), ("message", message), ("backend", backend)):
            if value:
                params[key] = value
        if parameters:
            params["parameters"] = json.dumps(parameters)
        try:
            data = self.api("POST", "ship/upload", params=params, content=bundle.pack(scan),
                            headers={"Content-Type": bundle.MEDIA_TYPE})
        except OSError as exc:  # a file of the project went away while it was sent
            raise BadInput(f"{exc.filename or notebook}: cannot be read: {exc.strerror}"
                           ) from None
        return ShipResult.model_validate(data)

    def collect(self, path: Path) -> Any:
        """The project a local ship would take along, checked the same way (and as strictly:
        the server checks it again with its own limits)."""
        from ..notebook import load_notebook
        from ..notebook._snapshot import confined_paths, ship_config
        from ..notebook.project import check_limits, scan_project

        s = self.settings
        nb = load_notebook(path, s.max_notebook_bytes)
        config = ship_config(nb, where=f"{path.name}: ").model_dump(exclude_none=True)
        scan = scan_project(path, root=config.get("root"), include=config.get("include"),
                            exclude=config.get("exclude"), skip=[s.home_path])
        confined_paths(config, path, scan.root, where=f"{path.name}: ")
        check_limits(scan, s.max_project_files, s.max_project_bytes)
        return scan

    def jobs(self, *_: Any) -> list[Any]:
        from ..models import JobList

        return JobList.model_validate(self.api("GET", "jobs")).jobs

    def job(self, name: str, *_: Any) -> Any:
        from ..models import JobInfo

        return JobInfo.model_validate(self.api("GET", f"jobs/{_q(name)}"))

    def versions(self, job: str, *_: Any) -> list[Any]:
        from ..models import VersionList

        return VersionList.model_validate(self.api("GET", f"jobs/{_q(job)}/versions")).versions

    def rollback(self, job: str, version: int, **_: Any) -> Any:
        from ..models import JobInfo

        return JobInfo.model_validate(self.api("POST", f"jobs/{_q(job)}/rollback",
                                               json={"version": version}))

    def promote(self, job: str, version: int, force: bool = False, to: str | None = None,
                **kwargs: Any) -> Any:
        from ..models import VersionInfo

        body: dict[str, Any] = {"force": bool(force)}
        env = to or kwargs.get("env") or kwargs.get("environment")
        if env and env != "production":  # the route's default; older servers know no "to"
            body["to"] = env
        return VersionInfo.model_validate(self.api(
            "POST", f"jobs/{_q(job)}/versions/{int(version)}/promote", json=body))

    def version(self, job: str, number: int | None = None, *_: Any) -> Any:
        from ..models import VersionInfo

        if number is None:  # the current one: the job says which
            number = self.api("GET", f"jobs/{_q(job)}")["current_version"]
        return VersionInfo.model_validate(self.api(
            "GET", f"jobs/{_q(job)}/versions/{int(number or 0)}"))

    def delete_job(self, job: str, *_: Any) -> None:
        self.request("DELETE", f"{API}/jobs/{_q(job)}")

    # ---- runs -----------------------------------------------------------------------------

    def run(self, job: str, version: int | None = None,
            parameters: dict[str, Any] | None = None, backend: str | None = None,
            **_: Any) -> Any:
        from ..models import RunInfo

        body = {"job": job, "version": version, "parameters": parameters or {},
                "backend": backend}
        return RunInfo.model_validate(self.api("POST", "runs", json=body))

    def get_run(self, run_id: str, **_: Any) -> Any:
        from ..models import RunInfo

        return RunInfo.model_validate(self.api("GET", f"runs/{_q(run_id)}"))

    def stream_log(self, run_id: str, out: Any, offset: int = 0) -> tuple[bool, int]:
        """Print a run's log live from ``offset`` over the server's WebSocket (``GET
        /runs/{id}/logs/ws``) until the run ends: (whether it said the run ended, the offset
        reached). A server or proxy that will not speak WebSocket (or drops it) is (False, the
        offset reached): the caller polls on from there, nothing printed twice."""
        import asyncio
        import json

        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = "ws" + self.url[len("http"):] + f"{API}/runs/{_q(run_id)}/logs/ws?offset={offset}"
        headers = {"Authorization": f"token {self.token}"} if self.token else {}
        reached = offset

        async def follow() -> bool:
            nonlocal reached
            conn = await websocket_connect(HTTPRequest(url, headers=headers, connect_timeout=15))
            try:
                while True:
                    message = await conn.read_message()
                    if message is None:
                        return False
                    body = json.loads(message)
                    if body.get("done"):
                        return True
                    if "offset" not in body:  # {"error", "message"}: poll instead
                        return False
                    out.write(body.get("data", ""))
                    out.flush()
                    reached = int(body["offset"])
            finally:
                conn.close()

        try:
            return asyncio.run(follow()), reached
        except Exception:  # no WebSocket through this server or proxy: the caller polls
            return False, reached

    def read_log(self, run_id: str, offset: int = 0) -> tuple[bytes, int]:
        r = self.request("GET", f"{API}/runs/{_q(run_id)}/logs", params={"offset": offset})
        return r.content, int(r.headers.get("X-Next-Offset", offset + len(r.content)))

    def runs(self, job: str | None = None, status: str | None = None, limit: int = 50,
             **_: Any) -> tuple[list[Any], str | None]:
        from ..models import RunList

        params = {k: v for k, v in (("job", job), ("status", status), ("limit", limit)) if v}
        page = RunList.model_validate(self.api("GET", "runs", params=params))
        return page.runs, page.next_cursor

    def wait(self, run_id: str, timeout: float | None = None) -> Any:
        """The run once it has ended (polled, like ``--wait`` does)."""
        import time

        from ..models import TERMINAL_STATUSES

        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.get_run(run_id)
            if info.status in TERMINAL_STATUSES or (
                    deadline is not None and time.monotonic() > deadline):
                return info
            time.sleep(self.follow_interval)

    def reconcile_active(self) -> None:
        """The server reconciles its own runs."""

    def cancel(self, run_id: str, *_: Any) -> Any:
        from ..models import RunInfo

        return RunInfo.model_validate(self.api("POST", f"runs/{_q(run_id)}/cancel"))

    def delete_run(self, run_id: str, *_: Any) -> None:
        self.request("DELETE", f"{API}/runs/{_q(run_id)}")

    def output_path(self, run_id: str) -> Path:
        r = self.request("GET", f"{API}/runs/{_q(run_id)}/output")
        fd, name = tempfile.mkstemp(prefix=f"ml-ship-{run_id}-", suffix=".ipynb")
        with open(fd, "wb") as out:
            out.write(r.content)
        atexit.register(Path(name).unlink, missing_ok=True)  # a download, for this command
        return Path(name)
