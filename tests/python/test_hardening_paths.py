"""Issue #20 (hardening), items 1, 4 and 7: every path a user names stays inside the project
folder (and the server root); data nested too deep is a 400 / exit 2 naming where; the spec and
the server agree on what is valid, and every error under the API base is the JSON error body."""

# ruff: noqa: F811  (pytest fixtures are imported from test_server)
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest

from jupyter_ml_ship.errors import BadInput
from jupyter_ml_ship.notebook._snapshot import PATH_KEYS, TEXT_KEYS, ShipConfig
from jupyter_ml_ship.pipelines.spec import STEP_KEYS, STEP_PATH_KEYS, TOP_KEYS, load_pipeline
from jupyter_ml_ship.untrusted import MAX_DEPTH

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

#: names that say "a file or folder": a config key named so must be a registered path key
PATH_LIKE = re.compile(r"(^|_)(path|file|dir|directory|folder|root|requirement|notebook|script|"
                       r"bundle|wheelhouse|cert|mount|volume|source|reference)s?($|_)", re.I)


def takes_text(annotation: Any) -> bool:
    """Whether a field's type can hold a string anywhere (``str``, ``list[str]``, ``Any``…)."""
    if annotation is str or annotation is Any:
        return True
    return any(takes_text(a) for a in get_args(annotation))


# ---- 1. paths -------------------------------------------------------------------------------


def test_every_config_key_is_registered_as_a_path_or_as_text() -> None:
    fields = ShipConfig.model_fields
    text_fields = {name for name, f in fields.items() if takes_text(f.annotation)}
    assert set(PATH_KEYS) <= set(fields), "a PATH_KEYS entry that is no field of ShipConfig"
    assert not set(PATH_KEYS) & set(TEXT_KEYS)
    unregistered = text_fields - set(PATH_KEYS) - set(TEXT_KEYS)
    assert not unregistered, (
        f"metadata.ml_ship keys {sorted(unregistered)} take text but are in neither PATH_KEYS "
        "(confined to the project folder before they are read) nor TEXT_KEYS (never opened): "
        "add each to one of them in notebook/_snapshot.py")
    pathlike = {k for k in TEXT_KEYS if PATH_LIKE.search(k)}
    assert not pathlike, f"{sorted(pathlike)}: named like paths, registered as plain text"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT\n")
    return secret


@pytest.mark.parametrize("key", PATH_KEYS)
def test_every_path_key_refuses_what_leaves_the_project(svc: Any, tmp_path: Path,
                                                        outside: Path, key: str) -> None:
    """Each registered path key, given an absolute path, a '..' out of the project and a
    link out of it, is refused naming the key; nothing is shipped and nothing leaks."""
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "sub" / "leak").symlink_to(outside.parent)
    (proj / "sub" / "leak.txt").symlink_to(outside)
    (proj / "sub" / ".shipignore").write_text("leak\nleak.txt\n")
    nb = make_notebook(proj / "sub" / "nb.ipynb", "print(1)")
    for value in (str(outside), "/etc/shadow", "../../secret.txt", "../..", "leak.txt", "leak",
                  "../../../../../../etc"):
        for how in ("metadata", "config"):
            meta = {"ml_ship": {key: value}} if how == "metadata" else None
            make_notebook(nb, "print(1)", metadata=meta)
            config = {key: value} if how == "config" else None
            with pytest.raises(BadInput) as refused:
                svc.ship(nb, config=config, confine=tmp_path / "proj")
            message = refused.value.message
            assert f"metadata.ml_ship.{key}" in message, (how, value, message)
            assert "outside" in message, (how, value, message)
            if how == "metadata":  # the Ship dialog's preview says it before shipping
                preview = svc.project_preview(nb, confine=tmp_path / "proj")
                assert preview.error and f"metadata.ml_ship.{key}" in preview.error
    assert svc.jobs() == []


def test_requirements_inside_the_project_are_read_and_outside_never(svc: Any, tmp_path: Path,
                                                                    outside: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "env").mkdir(parents=True)
    (proj / "env" / "reqs.txt").write_text("requests==2.31.0\n")
    nb = make_notebook(proj / "nbs" / "nb.ipynb", "print(1)",
                       metadata={"ml_ship": {"root": "..", "requirements": "../env/reqs.txt"}})
    assert svc.ship(nb).version.environment == "requests==2.31.0\n"
    # a requirements.txt beside the notebook that links out of the project is not read
    (proj / "nbs" / "requirements.txt").symlink_to(outside)
    (proj / ".shipignore").write_text("nbs/requirements.txt\n")
    make_notebook(nb, "print(2)", metadata={"ml_ship": {"root": ".."}})
    with pytest.raises(BadInput, match=r"requirements\.txt beside the notebook: "
                                       r"'requirements\.txt' is outside the project folder"):
        svc.ship(nb)
    assert all("TOP-SECRET" not in v.environment for v in svc.versions("nb"))


async def test_the_server_refuses_requirements_outside_the_project(api: Api, jp_root_dir: Path,
                                                                   ) -> None:
    make_notebook(jp_root_dir / "work" / "nb.ipynb", "print(1)",
                  metadata={"ml_ship": {"requirements": "/etc/shadow"}})
    code, message = error_of(await api("POST", "ship", body={"path": "work/nb.ipynb"},
                                       expect=400))
    assert message == ("nb.ipynb: metadata.ml_ship.requirements: '/etc/shadow' is outside the "
                       "project folder (give a path relative to it)")
    make_notebook(jp_root_dir / "work" / "nb.ipynb", "print(1)")
    for value in ("../../../../etc/passwd", "/etc/passwd"):
        code, message = error_of(await api("POST", "ship", expect=400, body={
            "path": "work/nb.ipynb", "config": {"requirements": value}}))
        assert code == "bad_request" and "metadata.ml_ship.requirements" in message
        assert "outside the project folder" in message
    assert js(await api("GET", "jobs"))["jobs"] == []


def test_every_pipeline_key_naming_a_file_is_confined(tmp_path: Path, outside: Path) -> None:
    assert set(STEP_PATH_KEYS) <= STEP_KEYS
    pathlike = {k for k in (STEP_KEYS - set(STEP_PATH_KEYS)) | TOP_KEYS if PATH_LIKE.search(k)}
    assert not pathlike, f"pipeline keys {sorted(pathlike)} look like paths: add to STEP_PATH_KEYS"
    folder = tmp_path / "pipes"
    folder.mkdir()
    make_notebook(folder / "ok.ipynb", "print(1)")
    (folder / "link.ipynb").symlink_to(outside)
    for key in STEP_PATH_KEYS:
        for value in (str(outside), "../secret.txt", "link.ipynb", "sub/../../secret.txt"):
            path = folder / "p.pipeline.yaml"
            path.write_text(f"steps:\n  ok: {{notebook: ok.ipynb}}\n  x:\n    {key}: '{value}'\n")
            with pytest.raises(BadInput) as refused:
                load_pipeline(path, confine=folder)
            assert refused.value.message == (
                f"p.pipeline.yaml, line 4: steps.x.{key}: {value!r} is outside the server "
                "root" + (" (give a path relative to it)" if value.startswith("/") else ""))
        path.write_text(f"steps:\n  x:\n    {key}: ok.ipynb\n")
        assert load_pipeline(path, confine=folder).steps["x"].notebook == "ok.ipynb"
        # the CLI reads the user's own files: a step beside the pipeline's folder is fine there
        path.write_text(f"steps:\n  x:\n    {key}: ../ok.ipynb\n")
        assert load_pipeline(path).steps["x"].notebook == "../ok.ipynb"


async def test_a_pipeline_step_notebook_keeps_its_project_inside_the_server_root(
        api: Api, jp_root_dir: Path) -> None:
    """Shipped as a step of a pipeline over REST, a notebook's root and requirements are held
    to the server root as when it is shipped alone."""
    make_notebook(jp_root_dir / "p" / "step.ipynb", "print(1)",
                  metadata={"ml_ship": {"root": "../../../../../../..",
                                        "requirements": "etc/passwd"}})
    (jp_root_dir / "p" / "x.pipeline.yaml").write_text("steps:\n  a: {notebook: step.ipynb}\n")
    code, message = error_of(await api("POST", "pipelines", body={"path": "p/x.pipeline.yaml"},
                                       expect=400))
    assert "metadata.ml_ship.root" in message and "outside the server root" in message, message
    assert js(await api("GET", "jobs"))["jobs"] == []


# ---- 4. nesting -----------------------------------------------------------------------------


def deep(levels: int, leaf: Any = 1) -> str:
    return "[" * levels + json.dumps(leaf) + "]" * levels


async def test_bodies_nested_too_deep_are_400_naming_the_field(api: Api,
                                                               jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "nb.ipynb", "print(n)", params="n = 1")
    js(await api("POST", "ship", body={"path": "nb.ipynb"}, expect=201))
    cases = [
        ("runs", '{"job": "nb", "parameters": {"n": ' + deep(1000) + "}}", "body.parameters.n"),
        ("ship", '{"path": "nb.ipynb", "config": {"env": ' + deep(5000) + "}}", "body.config"),
        ("jobs/nb/rollback".split("/"), '{"version": ' + deep(1000) + "}", "body.version"),
        ("runs", deep(100_000), "body"),
    ]
    for parts, body, field in cases:
        parts = [parts] if isinstance(parts, str) else parts
        code, message = error_of(await api("POST", *parts, body=body, expect=400))
        assert code == "bad_request" and message.startswith(field), message
        assert f"nested more than {MAX_DEPTH} levels deep" in message
    # as deep as allowed is fine
    ok = await api("POST", "runs", body='{"job": "nb", "parameters": {"n": ' + deep(MAX_DEPTH - 3)
                   + "}}", expect=None)
    assert ok.code in (201, 400)
    if ok.code == 400:
        assert "nested" not in error_of(ok)[1]


def test_a_notebook_nested_too_deep_is_refused_naming_the_spot(svc: Any, tmp_path: Path) -> None:
    path = tmp_path / "deep.ipynb"
    for levels in (MAX_DEPTH - 2, 5000):  # inside the metadata: over the limit either way
        nb = {"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": {"ml_ship": {"env": 0}}}
        path.write_text(json.dumps(nb).replace('"env": 0', '"env": ' + deep(levels)))
        with pytest.raises(BadInput, match=r"deep\.ipynb: metadata\.ml_ship\.env\.0\.…: nested "
                                           rf"more than {MAX_DEPTH} levels deep"):
            svc.ship(path)
    assert svc.jobs() == []


def ml_ship(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jupyter_ml_ship", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_deep_notebook_and_deep_parameter_exit_2_naming_it(cli_env: dict[str, str],
                                                               tmp_path: Path) -> None:
    path = tmp_path / "deep.ipynb"
    text = json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": [],
                       "metadata": {"ml_ship": {"env": "X"}}}).replace('"X"', deep(3000))
    path.write_text(text)
    done = ml_ship(cli_env, "ship", str(path))
    assert done.returncode == 2, done.stderr
    assert "metadata.ml_ship.env" in done.stderr and "nested more than" in done.stderr
    assert "Traceback" not in done.stderr
    nb = make_notebook(tmp_path / "ok.ipynb", "print(n)", params="n = 1")
    done = ml_ship(cli_env, "ship", str(nb), "-p", "n", deep(3000))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().startswith("ml-ship: error: -p n: nested more than"), done.stderr
    assert "Traceback" not in done.stderr
    (tmp_path / "deep.pipeline.yaml").write_text(
        "steps:\n  a:\n    notebook: ok.ipynb\n    parameters: {n: " + deep(3000) + "}\n")
    done = ml_ship(cli_env, "pipeline", "check", str(tmp_path / "deep.pipeline.yaml"))
    assert done.returncode == 2, done.stderr
    assert "deep.pipeline.yaml" in done.stderr and "nested more than" in done.stderr
    assert "Traceback" not in done.stderr


# ---- 7. the spec and the server agree ----------------------------------------------------


async def test_every_error_under_the_api_base_is_the_json_body(api: Api, jp_root_dir: Path,
                                                               jp_fetch: Any) -> None:
    make_notebook(jp_root_dir / "seed.ipynb", "print(1)")
    seeded = js(await api("POST", "ship", body={"path": "seed.ipynb", "run": True}, expect=201))
    run_id = seeded["run"]["id"]
    # a plain GET of the log WebSocket (no upgrade), and one without "Connection: Upgrade"
    for headers in ({}, {"Upgrade": "websocket"}):
        r = await api("GET", "runs", run_id, "logs", "ws", headers=headers, expect=400)
        assert r.headers["Content-Type"].startswith("application/json")
        code, message = error_of(r)
        assert code == "bad_request" and "WebSocket" in message
    # an upgrade in an old protocol version (426, no body from tornado): JSON too
    old = {"Upgrade": "websocket", "Connection": "Upgrade",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "5"}
    r = await api("GET", "runs", run_id, "logs", "ws", headers=old, expect=426)
    assert r.headers["Content-Type"].startswith("application/json")
    assert error_of(r)[0] == "upgrade_required"
    # 404s anywhere under the base, with or without a trailing slash
    for url in ("ml-ship/api", "ml-ship/api/", "ml-ship/api/nope", "ml-ship/api/jobs/x/y/z"):
        r = await jp_fetch(*url.split("/"), raise_error=False)
        assert r.code == 404, url
        assert r.headers["Content-Type"].startswith("application/json"), url
        assert error_of(r)[0] == "not_found"
    await wait_run(api, run_id)
