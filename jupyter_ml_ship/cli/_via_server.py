"""``ml-ship run`` handed to the Jupyter server that serves the same home, when one is up.

Started on its own, the command imports SQLAlchemy, pydantic and the service, opens the store
and only then starts the run: most of a second before the notebook's first cell. A server with
this extension announces itself in its home (``jupyter_ml_ship.local_server``); then the run is
one ``POST /runs`` to it — its store open, its warm runner forked — and ``--wait`` follows the
log and the status over its REST API with the standard library's HTTP client. The lines
printed and the exit codes are those of the local path (``_runs.cmd_run``/``follow``).

Only for the store the command would open itself (same home, same database URL) and no
``--url``; a server that does not answer the first request is left alone and the command
starts the service as before.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from typing import Any
from urllib.parse import quote, urlsplit

from ..local_server import find
from ._common import err, params_of, seconds
from ._quick import home

API = "ml-ship/api"
#: how often ``--wait`` asks the server for news (two small requests on loopback)
FOLLOW_INTERVAL = 0.03
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


class ServerRefused(Exception):
    """The server answered with an error: ``{"error", "message"}`` and its status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Client:
    """One kept-alive connection to the announced server."""

    def __init__(self, url: str, token: str):
        parts = urlsplit(url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else \
            http.client.HTTPConnection
        self.conn = kind(parts.hostname or "127.0.0.1", parts.port, timeout=120)
        self.base = parts.path.rstrip("/") + "/" + API
        self.headers = {"Authorization": f"token {token}"} if token else {}

    def request(self, method: str, path: str, body: Any = None) -> tuple[bytes, Any]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, f"{self.base}/{path}", body=data, headers=headers)
        resp = self.conn.getresponse()
        content = resp.read()
        if resp.status >= 400:
            try:
                message = str(json.loads(content)["message"])
            except (ValueError, KeyError, TypeError):
                message = f"the Jupyter server answered {resp.status} {resp.reason}"
            raise ServerRefused(resp.status, message)
        return content, resp.headers

    def json(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(self.request(method, path, body)[0])


def _server() -> dict[str, Any] | None:
    """The announced server of the store this command would open (None: none)."""
    if os.environ.get("ML_SHIP_URL", "").strip():
        return None
    where = home()
    server = find(where)
    if server is None:
        return None
    store = os.environ.get("ML_SHIP_DB_URL") or f"sqlite:///{where / 'ml_ship.db'}"
    return server if server["store"] == store else None


def run(args: argparse.Namespace) -> int | None:
    """``ml-ship run`` through the local server; None: no server to ask (the caller starts the
    service). Refusals print as the local path prints a ``ShipError`` (exit 2)."""
    server = _server()
    if server is None:
        return None
    job, _, number = args.job.partition("@")
    version: int | None = None
    if number:
        try:
            version = int(number.lstrip("v"))
        except ValueError:
            return None  # the local path words the error
    client = Client(server["url"], server["token"])
    body = {"job": job, "version": version, "parameters": params_of(args),
            "backend": args.backend}
    try:
        info = client.json("POST", "runs", body)
    except OSError:  # it stopped, or does not speak to us: start the service here
        return None
    except ServerRefused as exc:
        if exc.status in (401, 403):
            return None
        print(f"ml-ship: error: {exc.message}", file=sys.stderr)
        return 2
    if not args.wait:
        if args.json:
            _dump(info)
        else:
            print(info["id"])
        return 0
    err(f"run {info['id']} of {info['job']} v{info['version']} started on {info['backend']}")
    try:
        return follow(client, info["id"], as_json=args.json)
    except ServerRefused as exc:
        print(f"ml-ship: error: {exc.message}", file=sys.stderr)
    except OSError as exc:
        print(f"ml-ship: error: the Jupyter server at {server['url']} stopped answering "
              f"({exc}); the run goes on: `ml-ship status {info['id']}`", file=sys.stderr)
    return 2


def follow(client: Client, run_id: str, as_json: bool = False) -> int:
    """Print the log as it grows until the run ends; 0 only if it succeeded (the server
    reconciles the run and sends its notifications)."""
    out = sys.stderr if as_json else sys.stdout
    offset = 0
    path = f"runs/{quote(run_id, safe='')}"
    while True:
        info = client.json("GET", path)
        while True:
            data, headers = client.request("GET", f"{path}/logs?offset={offset}")
            offset = int(headers.get("X-Next-Offset", offset + len(data)))
            if not data:
                break
            out.write(data.decode("utf-8", "replace"))
        out.flush()
        if info["status"] in TERMINAL:
            break
        time.sleep(FOLLOW_INTERVAL)
    if as_json:
        _dump(info)
    else:
        error = info.get("error") or {}
        tail = f": {error['message']}" if error.get("message") else ""
        err(f"run {info['id']} {info['status']} in {seconds(info.get('duration'))}{tail}")
    return 0 if info["status"] == "succeeded" else 1


def _dump(info: Any) -> None:
    json.dump(info, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
