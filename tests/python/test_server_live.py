"""Live updates through a real Jupyter server: the log WebSocket, run status events on the
server's event bus, the reconciler that moves runs started by the CLI."""

# ruff: noqa: F811  (pytest fixtures are imported from test_server)
from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.websocket import WebSocketClientConnection

from jupyter_ml_ship.server import RUN_STATUS_SCHEMA_ID

from .conftest import make_notebook
from .test_server import (  # noqa: F401  (fixtures)
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
    ml_home,
    wait_run,
)

THOUSAND = (
    "import sys, time\n"
    "for i in range(1000):\n"
    "    print(f'line {i:04d} naïve ✓')\n"
    "    if i % 100 == 0:\n"
    "        sys.stdout.flush(); time.sleep(0.05)\n"
)


async def read_all(ws: WebSocketClientConnection, timeout: float = 90) -> list[dict[str, Any]]:
    """Every message until the server closes the socket."""
    messages = []
    while True:
        raw = await asyncio.wait_for(ws.read_message(), timeout)
        if raw is None:
            return messages
        messages.append(json.loads(raw))


def check_stream(messages: list[dict[str, Any]], start: int) -> bytes:
    """The bytes a stream carried; offsets must chain with no gap and no overlap."""
    assert messages and messages[-1].get("done") is True, messages[-3:]
    data, offset = b"", start
    for m in messages[:-1]:
        assert set(m) == {"offset", "data"}, m
        chunk = m["data"].encode()
        assert chunk, "empty chunk"
        assert m["offset"] == offset + len(chunk), (m["offset"], offset, len(chunk))
        data, offset = data + chunk, m["offset"]
    return data


async def test_websocket_follows_a_run_printing_1000_lines(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Path
) -> None:
    make_notebook(jp_root_dir / "thousand.ipynb", THOUSAND)
    run = js(await api("POST", "ship", body={"path": "thousand.ipynb", "run": True},
                       expect=201))["run"]
    ws = await jp_ws_fetch("ml-ship", "api", "runs", run["id"], "logs", "ws",
                           params={"offset": 0})
    messages = await read_all(ws)
    assert messages[-1] == {"done": True, "status": "succeeded"}
    assert len(messages) > 3, "the log should arrive in several pieces while the run goes"
    streamed = check_stream(messages, 0)
    lines = re.findall(r"^line \d{4} .*$", streamed.decode(), flags=re.M)
    assert lines == [f"line {i:04d} naïve ✓" for i in range(1000)]

    whole = (await api("GET", "runs", run["id"], "logs", params={"offset": 0})).body
    assert streamed == whole

    # from an offset: exactly the rest, nothing before it, nothing twice
    middle = whole.index(b"line 0500")
    ws = await jp_ws_fetch("ml-ship", "api", "runs", run["id"], "logs", "ws",
                           params={"offset": middle})
    rest = await read_all(ws)
    assert check_stream(rest, middle) == whole[middle:]
    assert rest[-1] == {"done": True, "status": "succeeded"}

    # the last 1000 bytes (how the lab opens a long log): from a line start, skipped counted
    ws = await jp_ws_fetch("ml-ship", "api", "runs", run["id"], "logs", "ws",
                           params={"tail": 1000})
    tail = await read_all(ws)
    first = tail[0]
    start = first["skipped"]
    assert first == {"offset": start, "data": "", "skipped": start}
    assert len(whole) - 1000 <= start < len(whole) - 900 and whole[start - 1:start] == b"\n"
    assert check_stream(tail[1:], start) == whole[start:]
    ws = await jp_ws_fetch("ml-ship", "api", "runs", run["id"], "logs", "ws",
                           params={"tail": len(whole) * 2})  # longer than the log: all of it
    assert check_stream(await read_all(ws), 0) == whole


async def test_websocket_refuses_unknown_runs_and_bad_offsets(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Path
) -> None:
    for params, code in [({"offset": 0}, 404)]:
        with pytest.raises(Exception) as exc_info:
            await jp_ws_fetch("ml-ship", "api", "runs", "nope", "logs", "ws", params=params)
        assert getattr(exc_info.value, "code", None) == code
    make_notebook(jp_root_dir / "one.ipynb", "print('only line')")
    run = js(await api("POST", "ship", body={"path": "one.ipynb", "run": True}, expect=201))["run"]
    with pytest.raises(Exception) as exc_info:
        await jp_ws_fetch("ml-ship", "api", "runs", run["id"], "logs", "ws",
                          params={"offset": -3})
    assert getattr(exc_info.value, "code", None) == 400
    with pytest.raises(Exception) as exc_info:
        await jp_ws_fetch("ml-ship", "api", "runs", run["id"], "logs", "ws",
                          params={"tail": 0})
    assert getattr(exc_info.value, "code", None) == 400
    await wait_run(api, run["id"])
    ws = await jp_ws_fetch("ml-ship", "api", "runs", run["id"], "logs", "ws")
    messages = await read_all(ws, timeout=30)
    assert b"only line" in check_stream(messages, 0)


async def next_status_events(ws: WebSocketClientConnection, run_id: str, until: str,
                             timeout: float = 90) -> list[str]:
    """Statuses of the run's events, in order, up to and including ``until``."""
    seen: list[str] = []
    while until not in seen:
        event = json.loads(await asyncio.wait_for(ws.read_message(), timeout))
        if event.get("schema_id") == RUN_STATUS_SCHEMA_ID and event["run_id"] == run_id:
            seen.append(event["status"])
    return seen


async def test_status_changes_are_server_events(api: Api, jp_ws_fetch: Any,
                                                jp_root_dir: Path) -> None:
    events = await jp_ws_fetch("api", "events", "subscribe")
    make_notebook(jp_root_dir / "ev.ipynb", "print('hi')")
    run = js(await api("POST", "ship", body={"path": "ev.ipynb", "run": True}, expect=201))["run"]
    assert await next_status_events(events, run["id"], "succeeded") == ["running", "succeeded"]

    make_notebook(jp_root_dir / "sleepy.ipynb", "import time\ntime.sleep(120)")
    await api("POST", "ship", body={"path": "sleepy.ipynb"}, expect=201)
    slow = js(await api("POST", "runs", body={"job": "sleepy"}, expect=201))
    assert await next_status_events(events, slow["id"], "running") == ["running"]
    await api("POST", "runs", slow["id"], "cancel")
    assert await next_status_events(events, slow["id"], "cancelled") == ["cancelled"]
    events.close()


async def test_a_retry_is_a_server_event(api: Api, jp_ws_fetch: Any, jp_root_dir: Path,
                                         tmp_path: Path) -> None:
    events = await jp_ws_fetch("api", "events", "subscribe")
    marker = tmp_path / "attempted"
    make_notebook(jp_root_dir / "flaky.ipynb",
                  f"import os, time\nm = {str(marker)!r}\n"
                  "if not os.path.exists(m):\n    open(m, 'w').close()\n    time.sleep(1)\n"
                  "    raise RuntimeError('flaky')\ntime.sleep(1)\nprint('second time lucky')",
                  metadata={"ml_ship": {"retries": 1}})
    run = js(await api("POST", "ship", body={"path": "flaky.ipynb", "run": True},
                       expect=201))["run"]
    seen = []
    while not seen or seen[-1][0] != "succeeded":
        event = json.loads(await asyncio.wait_for(events.read_message(), 90))
        if event.get("schema_id") == RUN_STATUS_SCHEMA_ID and event["run_id"] == run["id"]:
            seen.append((event["status"], event["attempts"]))
    events.close()
    assert ("running", 2) in seen and seen[-1] == ("succeeded", 2), seen


async def test_the_server_looks_for_runs_a_backend_started_and_survives_a_failing_look(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Path, jp_serverapp: Any
) -> None:
    ext = jp_serverapp.extension_manager.extension_points["jupyter_ml_ship"].app
    looks: list[float] = []

    def discover_runs() -> list[str]:  # Airflow down, say: the reconciler must carry on
        looks.append(time.monotonic())
        raise RuntimeError("Airflow is down")

    ext.service.discover_runs = discover_runs
    ext.ml_ship.discover_interval = 1
    ext._next.pop("discover", None)  # its next look: now
    events = await jp_ws_fetch("api", "events", "subscribe")
    make_notebook(jp_root_dir / "still.ipynb", "print('still moving')")
    run = js(await api("POST", "ship", body={"path": "still.ipynb", "run": True},
                       expect=201))["run"]
    assert await next_status_events(events, run["id"], "succeeded") == ["running", "succeeded"]
    events.close()
    deadline = asyncio.get_running_loop().time() + 10
    while len(looks) < 2 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    assert len(looks) >= 2, looks  # looked again after a failed look, a second later
    assert looks[1] - looks[0] >= 0.9, looks


async def test_reconciler_moves_runs_started_by_the_cli(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Path, ml_home: Path, jp_serverapp: Any
) -> None:
    make_notebook(jp_root_dir / "cli.ipynb", "import time\ntime.sleep(1)\nprint('from cli')")
    await api("POST", "ship", body={"path": "cli.ipynb"}, expect=201)
    events = await jp_ws_fetch("api", "events", "subscribe")
    env = {**os.environ, "ML_SHIP_HOME": str(ml_home)}
    env.pop("ML_SHIP_DB_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jupyter_ml_ship", "run", "cli", "--json", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    run_id = json.loads(out)["id"]
    # no request touches the run: only the server's reconciler can notice it
    assert await next_status_events(events, run_id, "succeeded") == ["running", "succeeded"]
    events.close()

    ext = jp_serverapp.extension_manager.extension_points["jupyter_ml_ship"].app
    task = ext._reconciler
    assert task is not None and not task.done()
    await ext.stop_extension()
    assert task.done() and ext._reconciler is None
