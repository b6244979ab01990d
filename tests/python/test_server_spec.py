"""The served OpenAPI document is the truth: equal to the checked-in file, to the route table and
to the real handlers; schemathesis fuzzes the running server against it; the extension is
installed and enabled."""

# ruff: noqa: F811  (pytest fixtures are imported from test_server)
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jupyter_events.schema import EventSchema
from tornado.routing import PathMatches
from tornado.web import RequestHandler

from jupyter_ml_ship.models import RunStatusEvent
from jupyter_ml_ship.pipelines.models import PipelineRunStatusEvent
from jupyter_ml_ship.server._base import NotFoundHandler
from jupyter_ml_ship.server._routes import SPEC_FILE, render_spec

from .conftest import make_notebook
from .test_server import (  # noqa: F401  (fixtures)
    Api,
    api,
    authorizer_class,
    jp_server_config,
    js,
    ml_home,
    wait_run,
)

METHODS = ("get", "post", "put", "patch", "delete")
EVENTS = Path(__file__).resolve().parents[2] / "jupyter_ml_ship" / "server" / "events"


@pytest.fixture
def jp_base_url() -> str:
    return "/jupyter/"


def test_checked_in_spec_is_generated_from_routes_and_models() -> None:
    assert SPEC_FILE.read_text() == render_spec(), (
        "openapi.json is stale: run `python -m jupyter_ml_ship.server --write-openapi`"
    )


def api_rules(router: Any) -> list[tuple[str, type]]:
    """(regex, handler) of every route of the tornado application, in matching order."""
    found = []
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            found += api_rules(rule.target)
        elif isinstance(rule.matcher, PathMatches):
            found.append((rule.matcher.regex.pattern, rule.target))
    return found


def sample_url(base: str, template: str) -> str:
    return base + re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "number" else "x",
                         template)


def implemented(handler: type) -> set[str]:
    return {m for m in METHODS if getattr(handler, m) is not getattr(RequestHandler, m)}


async def test_served_spec_equals_the_handlers(api: Api, jp_serverapp: Any) -> None:
    served = js(await api("GET", "openapi.json"))
    assert served["servers"] == [{"url": "/jupyter/ml-ship/api"}]
    assert {**served, "servers": None} == {**json.loads(render_spec()), "servers": None}

    rules = api_rules(jp_serverapp.web_app.default_router)
    base = "/jupyter/ml-ship/api"
    documented = set()
    for template, ops in served["paths"].items():
        url = sample_url(base, template)
        handler = next(h for rx, h in rules if re.fullmatch(rx.rstrip("$"), url))
        assert handler is not NotFoundHandler, f"{template}: documented, but no handler"
        assert implemented(handler) == set(ops), f"{template}: {implemented(handler)} vs {set(ops)}"
        documented.add(handler)
    ours = {h for rx, h in rules if rx.startswith(base)} - {NotFoundHandler}
    assert ours - documented == set(), "handlers missing from the spec"

    # every operation answers with a status its spec documents
    for template, ops in served["paths"].items():
        for method, op in ops.items():
            if template.endswith("/ws"):
                continue
            parts = sample_url("", template).strip("/").split("/")
            body = {} if method == "post" else None
            r = await api(method.upper(), *parts, body=body, expect=None)
            assert str(r.code) in op["responses"], (method, template, r.code, r.body[:200])


def test_event_schema_matches_the_model() -> None:
    schema = json.loads((EVENTS / "run-status.v1.json").read_text())
    model = RunStatusEvent.model_json_schema()
    assert schema["$id"] == "https://events.jupyter-ml-ship.org/run-status/v1"
    assert set(schema["properties"]) == set(model["properties"])
    assert set(schema["required"]) == set(model["required"])
    assert schema["properties"]["status"]["enum"] == model["properties"]["status"]["enum"]
    event = RunStatusEvent(run_id="r1", job="j", version=1, status="running")
    EventSchema(schema).validate(event.model_dump(mode="json"))
    with pytest.raises(jsonschema.ValidationError):
        EventSchema(schema).validate({**event.model_dump(mode="json"), "status": "exploded"})


def test_pipeline_event_schema_matches_the_model() -> None:
    schema = json.loads((EVENTS / "pipeline-run-status.v1.json").read_text())
    model = PipelineRunStatusEvent.model_json_schema()
    assert schema["$id"] == "https://events.jupyter-ml-ship.org/pipeline-run-status/v1"
    assert set(schema["properties"]) == set(model["properties"])
    assert set(schema["required"]) == set(model["required"])
    assert schema["properties"]["status"]["enum"] == model["properties"]["status"]["enum"]
    step_enum = model["properties"]["steps"]["additionalProperties"]["enum"]
    assert schema["properties"]["steps"]["additionalProperties"]["enum"] == step_enum
    event = PipelineRunStatusEvent(pipeline_run_id="p1", pipeline="duo", status="running",
                                   steps={"a": "succeeded", "b": "running"})
    EventSchema(schema).validate(event.model_dump(mode="json"))
    with pytest.raises(jsonschema.ValidationError):
        EventSchema(schema).validate({**event.model_dump(mode="json"), "steps": {"a": "?"}})


async def test_schemathesis_finds_no_server_error_and_no_spec_breach(
    api: Api, jp_root_dir: Path, jp_http_port: int, jp_serverapp: Any, tmp_path: Path
) -> None:
    make_notebook(jp_root_dir / "seed.ipynb", "print(n)", params="n = 1")
    seeded = js(await api("POST", "ship", body={"path": "seed.ipynb", "run": True}, expect=201))
    await wait_run(api, seeded["run"]["id"])
    config = tmp_path / "schemathesis.toml"  # real ids, so fuzzing reaches past the 404s
    config.write_text(f'[parameters]\n"path.name" = "seed"\n'
                      f'"path.run_id" = "{seeded["run"]["id"]}"\n')
    token = jp_serverapp.identity_provider.token
    base = f"http://127.0.0.1:{jp_http_port}/jupyter/ml-ship/api"
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config),
        "run", f"{base}/openapi.json", "-H", f"Authorization: token {token}",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_headers_conformance,response_schema_conformance,negative_data_rejection,"
        "ignored_auth",
        "--exclude-path-regex", "/logs/ws$", "--phases", "examples,coverage,fuzzing",
        "--max-examples", "25", "--seed", "7", "--workers", "1", "--request-timeout", "60",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}, cwd=tmp_path,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 600)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-6000:]
    assert re.search(r"\d+ generated, \d+ passed", text), text[-2000:]

    # what the spec calls valid is never refused as bad input: the boundary values of every
    # operation (an empty string where no minLength says otherwise, the smallest and largest
    # numbers…) must not come back 400
    config.write_text(config.read_text() + '[checks.positive_data_acceptance]\n'
                      'expected-statuses = ["2XX", "403", "404", "409", "413", "503"]\n')
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config),
        "run", f"{base}/openapi.json", "-H", f"Authorization: token {token}",
        "--checks", "positive_data_acceptance", "--mode", "positive",
        # /ship/upload takes a tar stream: no schema says which bytes make one
        "--exclude-path-regex", "(/logs/ws|/ship/upload)$", "--phases", "coverage", "--seed", "7",
        "--workers", "1", "--request-timeout", "60",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}, cwd=tmp_path,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 600)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-6000:]


def test_extension_is_listed_enabled() -> None:
    out = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter")), "server", "extension", "list"],
        capture_output=True, text=True, timeout=120,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert re.search(r"jupyter_ml_ship\s+enabled", text), text
    assert re.search(r"jupyter_ml_ship \S+ OK", text), text
