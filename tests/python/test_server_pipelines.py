"""Pipeline routes through a real Jupyter server: check, ship, version, run with live events,
roll back, cancel, delete; a pipeline may not reach outside the server root."""

# ruff: noqa: F811  (pytest fixtures are imported from test_server)
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from jupyter_ml_ship.server import PIPELINE_STATUS_SCHEMA_ID

from .conftest import make_notebook
from .test_server import (  # noqa: F401  (fixtures)
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
    ml_home,
)

PIPELINE = """\
name: duo
parameters: {base: 20}
steps:
  make:
    notebook: make.ipynb
    parameters: {n: "{{ params.base }}"}
  use:
    notebook: use.ipynb
    depends_on: [make]
    parameters: {m: "{{ steps.make.outputs.doubled }}"}
"""


def write_pipeline(root: Path, extra: str = "") -> None:
    make_notebook(root / "pipe" / "make.ipynb",
                  'from jupyter_ml_ship import record\nrecord("doubled", n * 2)', params="n = 1")
    make_notebook(root / "pipe" / "use.ipynb", f"print('got', m){extra}", params="m = 0")
    (root / "pipe" / "duo.pipeline.yaml").write_text(PIPELINE)


async def wait_pipeline(api: Api, run_id: str, timeout: float = 180) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        info = js(await api("GET", "pipeline-runs", run_id))
        if info["status"] in ("succeeded", "failed", "cancelled") or loop.time() > deadline:
            return info
        await asyncio.sleep(0.3)


async def test_ship_and_run_a_pipeline_with_live_events(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Path
) -> None:
    write_pipeline(jp_root_dir)
    path = "pipe/duo.pipeline.yaml"
    described = js(await api("GET", "pipeline-info", params={"path": path}))
    assert described["name"] == "duo" and described["path"] == path
    assert [(s["id"], s["depends_on"]) for s in described["steps"]] == [
        ("make", []), ("use", ["make"])]
    assert js(await api("GET", "pipelines"))["pipelines"] == []  # describing ships nothing

    shipped = js(await api("POST", "pipelines", body={"path": path, "message": "m1"}, expect=201))
    assert shipped["created"] and shipped["version"]["number"] == 1
    assert {j["name"] for j in js(await api("GET", "jobs"))["jobs"]} == {"make", "use"}
    again = js(await api("POST", "pipelines", body={"path": path}, expect=201))
    assert again["created"] is False and again["version"]["number"] == 1
    assert [p["name"] for p in js(await api("GET", "pipelines"))["pipelines"]] == ["duo"]
    assert js(await api("GET", "pipelines", "duo"))["current_version"] == 1
    assert js(await api("GET", "pipelines", "duo", "versions", "1"))["message"] == "m1"

    events = await jp_ws_fetch("api", "events", "subscribe")
    r = await api("POST", "pipelines", "duo", "runs", body={"parameters": {"base": 21}},
                  expect=201)
    run = js(r)
    assert r.headers["Location"].endswith(f"/ml-ship/api/pipeline-runs/{run['id']}")
    done = await wait_pipeline(api, run["id"])
    assert done["status"] == "succeeded", done
    steps = {s["id"]: s for s in done["steps"]}
    assert steps["make"]["outputs"] == {"doubled": 42} and steps["use"]["parameters"] == {"m": 42}
    log = (await api("GET", "runs", steps["use"]["run_id"], "logs")).body
    assert b"got 42" in log

    seen: list[tuple[str, dict[str, str]]] = []
    while not seen or seen[-1][0] != "succeeded":
        event = json.loads(await asyncio.wait_for(events.read_message(), 60))
        if event.get("schema_id") == PIPELINE_STATUS_SCHEMA_ID:
            assert event["pipeline_run_id"] == run["id"] and event["pipeline"] == "duo"
            seen.append((event["status"], event["steps"]))
    assert seen[-1] == ("succeeded", {"make": "succeeded", "use": "succeeded"})
    assert len(seen) == len(set(json.dumps(s) for s in seen)), "a change was emitted twice"
    events.close()

    listed = js(await api("GET", "pipeline-runs", params={"pipeline": "duo"}))
    assert [x["id"] for x in listed["runs"]] == [run["id"]]
    of = js(await api("GET", "pipelines", "duo", "runs", params={"status": "succeeded"}))
    assert [x["id"] for x in of["runs"]] == [run["id"]]
    code, msg = error_of(await api("POST", "pipeline-runs", run["id"], "cancel", expect=409))
    assert code == "conflict" and "already ended" in msg


async def test_versions_rollback_cancel_and_delete(api: Api, jp_root_dir: Path) -> None:
    write_pipeline(jp_root_dir)
    path = "pipe/duo.pipeline.yaml"
    await api("POST", "pipelines", body={"path": path}, expect=201)
    write_pipeline(jp_root_dir, "\nimport time\ntime.sleep(120)")
    second = js(await api("POST", "pipelines", body={"path": path}, expect=201))
    assert second["version"]["number"] == 2
    versions = js(await api("GET", "pipelines", "duo", "versions"))["versions"]
    assert [(v["number"], v["is_current"]) for v in versions] == [(2, True), (1, False)]
    rolled = js(await api("POST", "pipelines", "duo", "rollback", body={"version": 1}))
    assert rolled["current_version"] == 1 and rolled["latest_version"] == 2

    run = js(await api("POST", "pipelines", "duo", "runs", body={"version": 2}, expect=201))
    code, _ = error_of(await api("DELETE", "pipelines", "duo", expect=409))
    assert code == "conflict"
    cancelled = js(await api("POST", "pipeline-runs", run["id"], "cancel"))
    assert cancelled["status"] == "cancelled"
    await api("DELETE", "pipelines", "duo", expect=204)
    error_of(await api("GET", "pipelines", "duo", expect=404))


async def test_pipeline_errors(api: Api, jp_root_dir: Path, tmp_path: Path) -> None:
    make_notebook(tmp_path / "elsewhere" / "x.ipynb", "1")
    (jp_root_dir / "escape.pipeline.yaml").write_text(
        f"name: escape\nsteps:\n  x:\n    notebook: {tmp_path}/elsewhere/x.ipynb\n")
    (jp_root_dir / "cycle.pipeline.yaml").write_text(
        "name: cycle\nsteps:\n  a: {notebook: a.ipynb, depends_on: [b]}\n"
        "  b: {notebook: a.ipynb, depends_on: [a]}\n")
    make_notebook(jp_root_dir / "a.ipynb", "1")
    for method, parts, kw, status, words in [
        ("POST", ("pipelines",), {"body": {"path": "escape.pipeline.yaml"}}, 400,
         "outside the server root"),
        ("GET", ("pipeline-info",), {"params": {"path": "escape.pipeline.yaml"}}, 400,
         "outside the server root"),
        ("POST", ("pipelines",), {"body": {"path": "../x.pipeline.yaml"}}, 400,
         "outside the server root"),
        ("POST", ("pipelines",), {"body": {"path": "cycle.pipeline.yaml"}}, 400, "cycle"),
        ("POST", ("pipelines",), {"body": {"path": "none.pipeline.yaml"}}, 404, "none"),
        ("GET", ("pipelines", "nope"), {}, 404, "no pipeline named 'nope'"),
        ("GET", ("pipelines", "nope", "versions", "x"), {}, 400, "integer"),
        ("POST", ("pipelines", "nope", "runs"), {"body": {}}, 404, "'nope'"),
        ("POST", ("pipelines", "nope", "runs"), {"body": {"parallelism": 0}}, 400,
         "body.parallelism"),
        ("GET", ("pipeline-runs",), {"params": {"status": "exploded"}}, 400, "query.status"),
        ("GET", ("pipeline-runs", "nope"), {}, 404, "nope"),
        ("POST", ("pipeline-runs", "nope", "cancel"), {}, 404, "nope"),
    ]:
        code, msg = error_of(await api(method, *parts, expect=status, **kw))
        assert words in msg, (parts, msg)
    assert js(await api("GET", "pipelines"))["pipelines"] == []


async def test_pipeline_info_of_an_invalid_file_still_has_its_steps(api: Api, jp_root_dir: Path,
                                                                   ) -> None:
    make_notebook(jp_root_dir / "a.ipynb", "1")
    (jp_root_dir / "broken.pipeline.yaml").write_text(
        "name: broken\nsteps:\n  a: {notebook: a.ipynb}\n"
        "  b: {notebook: missing.ipynb, depends_on: [a, ghost]}\n")
    (jp_root_dir / "loop.pipeline.yaml").write_text(
        "name: loop\nsteps:\n  a: {notebook: a.ipynb, depends_on: [b]}\n"
        "  b: {notebook: a.ipynb, depends_on: [a]}\n")
    (jp_root_dir / "garbage.pipeline.yaml").write_text("steps: [unclosed\n")
    resp = await api("GET", "pipeline-info", params={"path": "broken.pipeline.yaml"}, expect=400)
    body = js(resp)
    assert "ghost" in body["message"]
    assert [(s["id"], s["depends_on"]) for s in body["steps"]] == [("a", []), ("b", ["a"])]
    body = js(await api("GET", "pipeline-info", params={"path": "loop.pipeline.yaml"},
                        expect=400))
    assert "cycle" in body["message"]
    assert {s["id"]: s["depends_on"] for s in body["steps"]} == {"a": ["b"], "b": ["a"]}
    body = js(await api("GET", "pipeline-info", params={"path": "garbage.pipeline.yaml"},
                        expect=400))
    assert "invalid YAML" in body["message"] and "steps" not in body  # nothing to draw
    (jp_root_dir / "broken.pipeline.yaml").write_text(
        "name: broken\nsteps:\n  a: {notebook: a.ipynb}\n  b: {notebook: missing.ipynb}\n")
    body = js(await api("GET", "pipeline-info", params={"path": "broken.pipeline.yaml"},
                        expect=400))
    assert "missing.ipynb" in body["message"] and len(body["steps"]) == 2
    assert str(jp_root_dir.resolve()) not in body["message"]  # the user's terms, not the server's
