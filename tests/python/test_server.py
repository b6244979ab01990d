"""The server extension's REST routes through a real Jupyter server (pytest-jupyter ``jp_fetch``).

Async tests run on pytest-jupyter's own loop (no pytest-asyncio marks: it stays in strict mode).
The fixtures here are imported by the other ``test_server_*.py`` modules.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.httpclient import HTTPResponse

from .conftest import make_notebook

Api = Callable[..., Awaitable[HTTPResponse]]
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out", "skipped"}


@pytest.fixture
def ml_home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "ml_home"
    # the server stops the warm runner it started; a pipeline scheduler may have started one
    from jupyter_ml_ship.config import MlShip
    from jupyter_ml_ship.runner import _warm

    _warm.stop(MlShip(home=str(tmp_path / "ml_home")))


@pytest.fixture
def authorizer_class() -> type | None:
    """Override with ``@pytest.mark.parametrize("authorizer_class", [...])``."""
    return None


@pytest.fixture
def jp_server_config(ml_home: Path, authorizer_class: type | None) -> dict[str, Any]:
    server: dict[str, Any] = {"jpserver_extensions": {"jupyter_ml_ship": True}}
    if authorizer_class is not None:
        server["authorizer_class"] = authorizer_class
    return {
        "ServerApp": server,
        "MlShip": {"home": str(ml_home), "freeze_environment": False, "reconcile_interval": 200},
    }


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    """``await api("POST", "runs", body={...}, expect=201)``: a request under /ml-ship/api."""

    async def call(method: str, *parts: str, body: Any = None, params: dict | None = None,
                   expect: int | None = 200, headers: dict | None = None) -> HTTPResponse:
        kw: dict[str, Any] = {"method": method, "raise_error": False, "params": params,
                              "headers": headers}
        if body is not None:
            kw["body"] = body if isinstance(body, str | bytes) else json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kw["body"] = ""
        r = await jp_fetch("ml-ship", "api", *parts, **kw)
        if expect is not None:
            assert r.code == expect, f"{method} {parts}: {r.code} {r.body[:500]!r}"
        return r

    return call


def js(r: HTTPResponse) -> Any:
    return json.loads(r.body)


def error_of(r: HTTPResponse) -> tuple[str, str]:
    body = js(r)
    assert set(body) == {"error", "message"}, body
    assert "Traceback" not in body["message"]
    return body["error"], body["message"]


async def wait_run(api: Api, run_id: str, timeout: float = 90) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        info = js(await api("GET", "runs", run_id))
        if info["status"] in TERMINAL or loop.time() > deadline:
            return info
        await asyncio.sleep(0.2)


PARAMS = 'x = 1\nname = "world"'
BODY = ('from jupyter_ml_ship import record\nprint(f"hello {name} x={x}")\n'
        'record("double", x * 2)')


# ---- ship, jobs, versions, runs, logs, output ---------------------------------------------


async def test_ship_run_and_read_it_all_back(api: Api, jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "work" / "Greet Me.ipynb", BODY, params=PARAMS)
    r = await api("POST", "ship", body={"path": "work/Greet Me.ipynb", "message": "first",
                                        "run": True, "parameters": {"x": 21, "name": "it's"}},
                  expect=201)
    shipped = js(r)
    assert shipped["created"] is True
    assert shipped["job"]["name"] == "greet-me"
    assert shipped["job"]["source_path"] == "work/Greet Me.ipynb"  # as the user knows it
    assert shipped["version"]["number"] == 1 and shipped["version"]["message"] == "first"
    # a token user is anonymous: the author is the user the server runs as
    assert shipped["version"]["author"] == (os.environ.get("ML_SHIP_AUTHOR") or getpass.getuser())
    run = await wait_run(api, shipped["run"]["id"])
    assert run["status"] == "succeeded", run
    assert run["parameters"] == {"x": 21, "name": "it's"} and run["outputs"] == {"double": 42}

    jobs = js(await api("GET", "jobs"))["jobs"]
    assert [j["name"] for j in jobs] == ["greet-me"] and jobs[0]["last_run"]["id"] == run["id"]
    assert js(await api("GET", "jobs", "greet-me"))["current_version"] == 1
    versions = js(await api("GET", "jobs", "greet-me", "versions"))["versions"]
    assert [(v["number"], v["is_current"]) for v in versions] == [(1, True)]
    v1 = js(await api("GET", "jobs", "greet-me", "versions", "1"))
    assert {p["name"]: p["type"] for p in v1["parameters"]} == {"x": "int", "name": "str"}

    page = js(await api("GET", "runs", params={"job": "greet-me", "status": "succeeded"}))
    assert [x["id"] for x in page["runs"]] == [run["id"]] and page["next_cursor"] is None
    assert js(await api("GET", "runs", params={"status": "failed"}))["runs"] == []

    r = await api("GET", "runs", run["id"], "logs", params={"offset": 0})
    log = r.body
    assert b"hello it's x=21" in log
    assert int(r.headers["X-Next-Offset"]) == len(log)
    assert r.headers["Content-Type"].startswith("text/plain")
    r = await api("GET", "runs", run["id"], "logs", params={"offset": 10})
    assert r.body == log[10:] and int(r.headers["X-Next-Offset"]) == len(log)
    for past in (len(log) + 5, 2**53 - 1):  # past the end: nothing yet, same offset
        r = await api("GET", "runs", run["id"], "logs", params={"offset": past})
        assert r.body == b"" and int(r.headers["X-Next-Offset"]) == past

    out = js(await api("GET", "runs", run["id"], "output"))
    injected = [c for c in out["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and 'name = "it\'s"' in "".join(injected[0]["source"])
    r = await api("GET", "runs", run["id"], "output", params={"format": "html"})
    assert r.headers["Content-Type"].startswith("text/html")
    assert b"hello it&#39;s x=21" in r.body or b"hello it's x=21" in r.body
    assert "script-src" not in r.headers["Content-Security-Policy"]


async def test_reship_rollback_and_start_runs(api: Api, jp_root_dir: Path) -> None:
    nb = make_notebook(jp_root_dir / "job.ipynb", BODY, params=PARAMS)
    first = js(await api("POST", "ship", body={"path": "job.ipynb"}, expect=201))
    again = js(await api("POST", "ship", body={"path": "job.ipynb"}, expect=201))
    assert again["created"] is False and again["version"]["number"] == 1
    make_notebook(nb, BODY + "\nprint('v2')", params=PARAMS)
    second = js(await api("POST", "ship", body={"path": "job.ipynb", "name": "job"}, expect=201))
    assert (first["created"], second["version"]["number"]) == (True, 2)

    job = js(await api("POST", "jobs", "job", "rollback", body={"version": 1}))
    assert job["current_version"] == 1 and job["latest_version"] == 2
    versions = js(await api("GET", "jobs", "job", "versions"))["versions"]
    assert [(v["number"], v["is_current"]) for v in versions] == [(2, False), (1, True)]

    r = await api("POST", "runs", body={"job": "job", "parameters": {"x": 3}}, expect=201)
    started = js(r)
    assert started["version"] == 1 and started["status"] in {"queued", "running"}
    assert r.headers["Location"].endswith(f"/ml-ship/api/runs/{started['id']}")
    pinned = js(await api("POST", "runs", body={"job": "job", "version": 2}, expect=201))
    done = [await wait_run(api, started["id"]), await wait_run(api, pinned["id"])]
    assert [(d["version"], d["status"], d["outputs"]) for d in done] == [
        (1, "succeeded", {"double": 6}), (2, "succeeded", {"double": 2})]
    page = js(await api("GET", "runs", params={"limit": 1}))
    assert len(page["runs"]) == 1 and page["next_cursor"] == pinned["id"]
    rest = js(await api("GET", "runs", params={"limit": 1, "cursor": page["next_cursor"]}))
    assert [x["id"] for x in rest["runs"]] == [started["id"]]


async def test_cancel_and_delete(api: Api, jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "slow.ipynb", "import time\nprint('sleeping', flush=True)\n"
                  "time.sleep(120)")
    run = js(await api("POST", "ship", body={"path": "slow.ipynb", "run": True}, expect=201))["run"]
    code, msg = error_of(await api("DELETE", "jobs", "slow", expect=409))
    assert code == "conflict" and "active run" in msg
    cancelled = js(await api("POST", "runs", run["id"], "cancel"))
    assert cancelled["status"] == "cancelled" and cancelled["ended_at"]
    assert js(await api("POST", "runs", run["id"], "cancel"))["status"] == "cancelled"
    r = await api("DELETE", "jobs", "slow", expect=204)
    assert r.body == b""
    error_of(await api("GET", "jobs", "slow", expect=404))
    error_of(await api("GET", "runs", run["id"], expect=404))


async def test_notebook_info_for_the_ship_dialog(api: Api, jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "d" / "Train Model.ipynb", "print(lr)",
                  params="lr: float = 0.1  # learning rate\nepochs = 3",
                  metadata={"ml_ship": {"timeout": 60, "retries": 1}})
    info = js(await api("GET", "notebook-info", params={"path": "d/Train Model.ipynb"}))
    assert info["name"] == "train-model"
    assert info["config"] == {"timeout": 60, "retries": 1}
    assert [(p["name"], p["type"], p["default"]) for p in info["parameters"]] == [
        ("lr", "float", "0.1"), ("epochs", "int", "3")]
    assert info["parameters"][0]["help"] == "learning rate"
    make_notebook(jp_root_dir / "named.ipynb", "1", metadata={"ml_ship": {"name": "nightly"}})
    assert js(await api("GET", "notebook-info", params={"path": "named.ipynb"}))["name"] == "nightly"


# ---- errors -------------------------------------------------------------------------------


async def test_paths_outside_the_root_are_refused(api: Api, jp_root_dir: Path,
                                                  tmp_path: Path) -> None:
    outside = make_notebook(tmp_path / "outside" / "secret.ipynb", "print(1)")
    (jp_root_dir / "link.ipynb").symlink_to(outside)
    (jp_root_dir / "linkdir").symlink_to(outside.parent)
    make_notebook(jp_root_dir / ".hidden" / "h.ipynb", "1")
    for path, words in [
        ("../outside/secret.ipynb", "outside the server root"),
        ("work/../../outside/secret.ipynb", "outside the server root"),
        (str(outside), "relative to the server root"),
        ("link.ipynb", "symbolic link"),
        ("linkdir/secret.ipynb", "symbolic link"),
        (".hidden/h.ipynb", "hidden"),
    ]:
        for method, route, kw in [("POST", "ship", {"body": {"path": path}}),
                                  ("GET", "notebook-info", {"params": {"path": path}})]:
            code, msg = error_of(await api(method, route, expect=400, **kw))
            assert code == "bad_request" and words in msg and repr(path) in msg, (path, msg)
    assert js(await api("GET", "jobs"))["jobs"] == []


async def test_bad_requests_say_what_and_where(api: Api, jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "p.ipynb", "print(x)", params="x = 1")
    (jp_root_dir / "broken.ipynb").write_text('{"cells": [')
    await api("POST", "ship", body={"path": "p.ipynb"}, expect=201)
    cases: list[tuple[str, tuple[str, ...], dict[str, Any], int, str]] = [
        ("POST", ("ship",), {"body": "{not json"}, 400, "body: not valid JSON"),
        ("POST", ("ship",), {"body": "[1]"}, 400, "JSON object"),
        ("POST", ("ship",), {"body": {"path": "p.ipynb", "bogus": 1}}, 400, "body.bogus"),
        ("POST", ("ship",), {"body": {"path": "p.ipynb", "run": "maybe"}}, 400, "body.run"),
        ("POST", ("ship",), {"body": {}}, 400, "body.path: Field required"),
        ("POST", ("ship",), {"body": {"path": "nope.ipynb"}}, 404, "'nope.ipynb'"),
        ("POST", ("ship",), {"body": {"path": "broken.ipynb"}}, 400, "broken.ipynb: not a notebook"),
        ("POST", ("ship",), {"body": {"path": "p.ipynb", "name": "Bad Name"}}, 400, "'Bad Name'"),
        ("GET", ("notebook-info",), {}, 400, "query.path: Field required"),
        ("GET", ("jobs", "nope"), {}, 404, "no job named 'nope'"),
        ("GET", ("jobs", "nope", "versions"), {}, 404, "'nope'"),
        ("GET", ("jobs", "p", "versions", "abc"), {}, 400, "version must be an integer"),
        ("GET", ("jobs", "p", "versions", "7"), {}, 404, "no version 7"),
        ("GET", ("jobs", "p", "versions", str(2**70)), {}, 404, "no version"),
        ("POST", ("jobs", "p", "rollback"), {"body": {"version": 9}}, 404, "no version 9"),
        ("POST", ("jobs", "p", "rollback"), {"body": {}}, 400, "body.version"),
        ("DELETE", ("jobs", "nope"), {}, 404, "'nope'"),
        ("GET", ("runs",), {"params": {"status": "bogus"}}, 400, "query.status"),
        ("GET", ("runs",), {"params": {"limit": "0"}}, 400, "query.limit"),
        ("GET", ("runs",), {"params": {"limit": "x"}}, 400, "query.limit"),
        ("GET", ("runs",), {"params": {"job": "nope"}}, 404, "'nope'"),
        ("GET", ("runs",), {"params": {"color": "red"}}, 400, "query.color"),
        ("POST", ("runs",), {"body": {"job": "nope"}}, 404, "no job named 'nope'"),
        ("POST", ("runs",), {"body": {"job": "p", "parameters": {"y": 1}}}, 400, "unknown parameter 'y'"),
        ("POST", ("runs",), {"body": {"job": "p", "parameters": {"x": "a"}}}, 400, "parameter 'x' must be int"),
        ("POST", ("runs",), {"body": {"job": "p", "backend": "nope"}}, 400, "backend 'nope'"),
        ("POST", ("runs",), {"body": {"job": "p", "version": 2**70}}, 400, "body.version"),
        ("GET", ("runs", "nope"), {}, 404, "no run with id 'nope'"),
        ("POST", ("runs", "nope", "cancel"), {}, 404, "'nope'"),
        ("GET", ("runs", "nope", "logs"), {}, 404, "'nope'"),
        ("GET", ("runs", "nope", "output"), {}, 404, "'nope'"),
        ("GET", ("runs", "x", "logs"), {"params": {"offset": "-1"}}, 400, "query.offset"),
        ("GET", ("runs", "x", "output"), {"params": {"format": "pdf"}}, 400, "query.format"),
        ("GET", ("no-such-route",), {}, 404, "no such API route"),
        ("PUT", ("jobs",), {"body": "{}"}, 405, ""),
    ]
    for method, parts, kw, status, words in cases:
        code, msg = error_of(await api(method, *parts, expect=status, **kw))
        assert words in msg, (method, parts, msg)
        assert code == {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}[status]


async def test_cancel_of_an_ended_run_is_a_conflict(api: Api, jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "quick.ipynb", "print('done')")
    run = js(await api("POST", "ship", body={"path": "quick.ipynb", "run": True}, expect=201))["run"]
    assert (await wait_run(api, run["id"]))["status"] == "succeeded"
    code, msg = error_of(await api("POST", "runs", run["id"], "cancel", expect=409))
    assert code == "conflict" and "already ended" in msg
    r = await api("GET", "runs", run["id"], "output", params={"format": "ipynb"})
    assert js(r)["nbformat"] == 4


async def test_a_body_over_the_limit_is_refused(api: Api) -> None:
    big = {"job": "any", "parameters": {"blob": "x" * (10 * 1024 * 1024)}}
    code, msg = error_of(await api("POST", "runs", body=big, expect=413))
    assert code == "too_large" and "max_request_bytes" in msg
    code, _ = error_of(await api("POST", "ship", body={"path": "a" * (3 * 1024 * 1024)},
                                 expect=413))
    assert code == "too_large"


# ---- authentication and authorization ------------------------------------------------------

ROUTES = [("GET", ("health",)), ("GET", ("openapi.json",)), ("GET", ("jobs",)),
          ("GET", ("jobs", "j")), ("DELETE", ("jobs", "j")), ("GET", ("jobs", "j", "versions")),
          ("GET", ("jobs", "j", "versions", "1")), ("POST", ("jobs", "j", "rollback")),
          ("GET", ("runs",)), ("POST", ("runs",)), ("GET", ("runs", "r")),
          ("POST", ("runs", "r", "cancel")), ("GET", ("runs", "r", "logs")),
          ("GET", ("runs", "r", "output")), ("POST", ("ship",)),
          ("GET", ("notebook-info",))]


async def test_unauthenticated_requests_are_refused(api: Api, jp_ws_fetch: Any) -> None:
    for method, parts in ROUTES:
        r = await api(method, *parts, headers={"Authorization": ""}, expect=403,
                      body={"job": "j"} if method == "POST" else None)
        assert error_of(r)[0] == "forbidden", (method, parts)
    with pytest.raises(Exception) as exc_info:
        await jp_ws_fetch("ml-ship", "api", "runs", "r", "logs", "ws",
                          headers={"Authorization": ""})
    assert getattr(exc_info.value, "code", None) == 403


class ReadOnlyAuthorizer(Authorizer):
    """A user who may look at everything and change nothing."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return action == "read"


@pytest.mark.parametrize("authorizer_class", [ReadOnlyAuthorizer])
async def test_a_read_only_user_can_read_but_not_change(api: Api, jp_root_dir: Path,
                                                        ml_home: Path) -> None:
    from jupyter_ml_ship.config import MlShip
    from jupyter_ml_ship.core import ShipService

    nb = make_notebook(jp_root_dir / "ro.ipynb", "print(x)", params="x = 1")
    cli = ShipService(MlShip(home=str(ml_home), freeze_environment=False))  # as the CLI would
    cli.ship(nb)
    cli.ship(make_notebook(nb, "print(x + 1)", params="x = 1"))
    cli.close()
    assert [j["name"] for j in js(await api("GET", "jobs"))["jobs"]] == ["ro"]
    assert len(js(await api("GET", "jobs", "ro", "versions"))["versions"]) == 2
    await api("GET", "runs")
    await api("GET", "health")
    await api("GET", "notebook-info", params={"path": "ro.ipynb"})
    for method, parts, body in [("POST", ("ship",), {"path": "ro.ipynb", "run": True}),
                                ("POST", ("runs",), {"job": "ro"}),
                                ("POST", ("jobs", "ro", "rollback"), {"version": 1}),
                                ("POST", ("runs", "any", "cancel"), None),
                                ("DELETE", ("jobs", "ro"), None)]:
        code, msg = error_of(await api(method, *parts, body=body, expect=403))
        assert code == "forbidden" and "not authorized to write" in msg
    job = js(await api("GET", "jobs", "ro"))
    assert job["current_version"] == 2 and job["last_run"] is None
