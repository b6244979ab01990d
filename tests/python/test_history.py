"""Run history at a glance: a job's runs as a table (core, CLI, REST) and two runs compared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jupyter_ml_ship.core.history import compare_runs, run_history

from .conftest import make_notebook
from .test_server import (  # noqa: F401 - fixtures
    Api,
    api,
    authorizer_class,
    jp_server_config,
    js,
    ml_home,
    wait_run,
)

ML_SHIP = [sys.executable, "-m", "jupyter_ml_ship"]


def train(path: Path, factor: float) -> Path:
    return make_notebook(
        path, "from jupyter_ml_ship import record",
        f"record('accuracy', round(0.5 + lr * {factor}, 4))\nrecord('model', 'tree')",
        params="lr = 0.1")


def three_runs(svc, tmp_path):
    nb = train(tmp_path / "work" / "train.ipynb", 1.0)
    svc.ship(nb)
    a = svc.wait(svc.run("train", parameters={"lr": 0.1}).id, timeout=120)
    b = svc.wait(svc.run("train", parameters={"lr": 0.3}).id, timeout=120)
    train(nb, 2.0)
    svc.ship(nb, message="twice the effect")
    c = svc.wait(svc.run("train", parameters={"lr": 0.3}).id, timeout=120)
    assert {a.status, b.status, c.status} == {"succeeded"}
    return a, b, c


def test_history_table_and_compare(svc, tmp_path, cli_env):
    a, b, c = three_runs(svc, tmp_path)
    h = run_history(svc, "train")
    assert [r.id for r in h.runs] == [c.id, b.id, a.id]
    assert [(r.version, r.parameters, r.outputs["accuracy"]) for r in h.runs] == [
        (2, {"lr": 0.3}, 1.1), (1, {"lr": 0.3}, 0.8), (1, {"lr": 0.1}, 0.6)]
    assert [(col.name, col.numeric) for col in h.outputs] == [("accuracy", True), ("model", False)]
    assert [col.name for col in h.parameters] == ["lr"]
    assert [(v.number, v.is_current) for v in h.versions] == [(1, False), (2, True)]
    assert all(r.duration and r.duration > 0 for r in h.runs)

    cmp = compare_runs(svc, b.id, c.id)
    assert [(r.name, r.a, r.b, r.same) for r in cmp.parameters] == [("lr", 0.3, 0.3, True)]
    assert [(r.name, r.a, r.b, r.same) for r in cmp.outputs] == [
        ("accuracy", 0.8, 1.1, False), ("model", "tree", "tree", True)]
    assert "lr * 1.0" in cmp.notebook_text and "lr * 2.0" in cmp.notebook_text
    assert cmp.notebook_diff and cmp.missing == []

    # the CLI: the same table with parameters and outputs as columns, and the comparison
    env = {**cli_env, "ML_SHIP_HOME": str(svc.settings.home)}
    p = subprocess.run([*ML_SHIP, "runs", "--job", "train", "--outputs"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    header, *lines = p.stdout.splitlines()
    assert header.split() == ["RUN", "VERSION", "STATUS", "STARTED", "DURATION", "lr", "accuracy",
                              "model"]
    assert lines[0].split()[0] == c.id and "v2*" in lines[0] and "1.1" in lines[0]
    assert lines[2].split()[0] == a.id and "0.6" in lines[2] and "0.1" in lines[2]
    p = subprocess.run([*ML_SHIP, "runs", "--job", "train", "--outputs", "--json"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert json.loads(p.stdout)["outputs"] == ["accuracy", "model"]
    p = subprocess.run([*ML_SHIP, "compare", b.id, c.id], env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "output accuracy" in out and "+0.3" in out and "train v1" in out and "train v2" in out
    assert "lr * 2.0" in out
    p = subprocess.run([*ML_SHIP, "runs", "--outputs"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2 and "--outputs needs --job" in p.stderr


def check_failures_and_limit(svc, tmp_path: Path) -> None:
    """A failed run's row names its exception; ``limit`` keeps the newest runs and says so.
    Shared with the PostgreSQL tests (JSON columns are read as text there too)."""
    nb = make_notebook(tmp_path / "flaky.ipynb", "from jupyter_ml_ship import record",
                       "record('rows', n)\nif n > 1:\n    raise ValueError('too many')",
                       params="n = 1")
    svc.ship(nb)
    ok = svc.wait(svc.run("flaky", parameters={"n": 1}).id, timeout=120)
    bad = svc.wait(svc.run("flaky", parameters={"n": 2}).id, timeout=120)
    assert (ok.status, bad.status) == ("succeeded", "failed")
    h = run_history(svc, "flaky")
    assert [(r.id, r.status, r.error, r.parameters, r.outputs) for r in h.runs] == [
        (bad.id, "failed", "ValueError", {"n": 2}, {"rows": 2}),
        (ok.id, "succeeded", None, {"n": 1}, {"rows": 1})]
    assert [(c.name, c.numeric) for c in h.parameters] == [("n", True)]
    assert h.truncated is False
    newest = run_history(svc, "flaky", limit=1)
    assert [r.id for r in newest.runs] == [bad.id] and newest.truncated is True
    assert newest.runs[0].created_at.tzinfo is not None


def test_history_failures_and_limit(svc, tmp_path):
    check_failures_and_limit(svc, tmp_path)


async def test_history_and_compare_over_rest(api: Api, jp_root_dir: Path) -> None:
    train(jp_root_dir / "train.ipynb", 1.0)
    await api("POST", "ship", body={"path": "train.ipynb"}, expect=201)
    ids = []
    for lr in (0.1, 0.2):
        run = js(await api("POST", "runs", body={"job": "train", "parameters": {"lr": lr}},
                           expect=201))
        await wait_run(api, run["id"])
        ids.append(run["id"])
    h = js(await api("GET", "jobs", "train", "history"))
    assert [r["id"] for r in h["runs"]] == ids[::-1]
    assert h["outputs"] == [{"name": "accuracy", "numeric": True},
                            {"name": "model", "numeric": False}]
    assert h["versions"][0]["is_current"] is True
    h = js(await api("GET", "jobs", "train", "history", params={"status": "failed"}))
    assert h["runs"] == []
    cmp = js(await api("GET", "runs", "compare", params={"a": ids[0], "b": ids[1]}))
    assert cmp["a"]["id"] == ids[0] and cmp["outputs"][0]["b"] == 0.7
    await api("GET", "runs", "compare", params={"a": ids[0], "b": "nope"}, expect=404)
    await api("GET", "runs", "compare", params={"a": ids[0]}, expect=400)
    await api("GET", "jobs", "nope", "history", expect=404)
