"""Scripts are jobs too: ``.py`` / ``.R`` percent scripts and Markdown notebooks ship through
Jupytext with their parameters, logs, outputs, versions and roll back; a pipeline step can be
``script: file.py``, confined to the pipeline's folder like a notebook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_ml_ship.errors import BadInput
from jupyter_ml_ship.languages import installed_kernels
from jupyter_ml_ship.pipelines.spec import load_pipeline

from .conftest import require
from .test_server import (  # noqa: F401  (fixtures)
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
    ml_home,
)

ML_SHIP = [sys.executable, "-m", "jupyter_ml_ship"]
TIMEOUT = 120

TRAIN_PY = '''# %% [markdown]
# Train a tiny model

# %% tags=["parameters"]
n = 3  # rows
label = "first"

# %%
from jupyter_ml_ship import record

print(f"training on {n} rows ({label})")
record("rows", n * 10)
record("label", label.upper())
'''

SCORE_R = '''# %% Parameters
threshold <- 0.5
weights <- c(1, 2)

# %%
cat(sprintf("threshold=%s\\n", threshold))
record("score", threshold * sum(weights))
'''

REPORT_MD = '''---
jupyter:
  kernelspec:
    name: python3
    display_name: Python 3
    language: python
---

# Report

```python tags=["parameters"]
title = "weekly"
```

```python
from jupyter_ml_ship import record
record("title", title.title())
```
'''


def ml(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*ML_SHIP, *args], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    return done


def test_a_percent_script_ships_runs_and_rolls_back_from_the_cli(tmp_path, cli_env) -> None:
    script = tmp_path / "train.py"
    script.write_text(TRAIN_PY)
    shipped = ml(cli_env, "ship", str(script), "--run", "--wait", "-p", "n", "4",
                 "-p", "label", "it's")
    assert "shipped train v1" in shipped.stderr
    assert "training on 4 rows (it's)" in shipped.stdout
    versions = json.loads(ml(cli_env, "versions", "train", "--json").stdout)
    v1 = versions["versions"][0] if isinstance(versions, dict) else versions[0]
    assert [(p["name"], p["type"], p["default"], p["help"]) for p in v1["parameters"]] == [
        ("n", "int", "3", "rows"), ("label", "str", '"first"', "")]
    run_id = json.loads(ml(cli_env, "runs", "--json").stdout)["runs"][0]["id"]
    status = json.loads(ml(cli_env, "status", run_id, "--json").stdout)
    assert status["status"] == "succeeded"
    assert status["outputs"] == {"rows": 40, "label": "IT'S"}
    script.write_text(TRAIN_PY.replace("n * 10", "n * 100"))
    assert "shipped train v2" in ml(cli_env, "ship", str(script)).stderr
    ml(cli_env, "rollback", "train", "1")
    again = ml(cli_env, "run", "train", "--wait", "-p", "n", "2")
    assert "output rows = 20" in again.stdout + again.stderr  # v1's code ran again


def test_an_r_percent_script_ships_typed_and_records(svc, tmp_path) -> None:
    require("r", "ir" in installed_kernels(),
            "no 'ir' Jupyter kernel (run scripts/r-up.sh: R and IRkernel)")
    script = tmp_path / "score.R"
    script.write_text(SCORE_R)
    version = svc.ship(script).version
    assert version.job == "score"
    assert [(p.name, p.type, p.default) for p in version.parameters] == [
        ("threshold", "float", "0.5"), ("weights", "list", "[1, 2]")]
    info = svc.wait(svc.run("score", parameters={"threshold": 2, "weights": [1, 2, 3]}).id,
                    TIMEOUT)
    assert info.status == "succeeded", info.error
    assert info.outputs == {"score": 12}
    assert "threshold=2" in svc.read_log(info.id)[0].decode()


def test_a_markdown_notebook_ships_with_its_parameters(svc, tmp_path) -> None:
    doc = tmp_path / "report.md"
    doc.write_text(REPORT_MD)
    version = svc.ship(doc).version
    assert [(p.name, p.type) for p in version.parameters] == [("title", "str")]
    info = svc.wait(svc.run("report", parameters={"title": "monthly sales"}).id, TIMEOUT)
    assert info.status == "succeeded", info.error
    assert info.outputs == {"title": "Monthly Sales"}


PIPELINE = """
name: scripted
steps:
  train:
    script: train.py
    parameters: {n: 5}
  check:
    notebook: check.ipynb
    depends_on: [train]
    parameters: {rows: "{{ steps.train.outputs.rows }}"}
"""


def test_a_pipeline_step_can_be_a_script(svc, nb, tmp_path) -> None:
    work = tmp_path / "work"
    nb("check.ipynb", "from jupyter_ml_ship import record\nrecord('ok', rows == 50)",
       params="rows = 0")
    (work / "train.py").write_text(TRAIN_PY)
    spec = work / "scripted.pipeline.yaml"
    spec.write_text(PIPELINE)
    svc.ship_pipeline(spec)
    info = svc.drive_pipeline_run(svc.run_pipeline("scripted", detach=False).id,
                                  timeout=TIMEOUT)
    steps = {s.id: s for s in info.steps}
    assert info.status == "succeeded", [(s.id, s.status, s.error) for s in info.steps]
    assert steps["train"].outputs == {"rows": 50, "label": "FIRST"}
    assert steps["check"].outputs == {"ok": True}


@pytest.mark.parametrize("step, message", [
    ("script: ../outside.py", r"steps\.train\.script"),
    ("script: ''", r"steps\.train\.script: must be the path of a \.py, \.R or \.md"),
    ("script: train.py\n    notebook: train.ipynb", "exactly one of 'notebook'"),
])
def test_a_script_step_is_confined_and_checked(tmp_path: Path, step: str, message: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "outside.py").write_text("print(1)\n")
    spec = work / "bad.pipeline.yaml"
    spec.write_text(f"name: bad\nsteps:\n  train:\n    {step}\n")
    with pytest.raises(BadInput, match=message):
        load_pipeline(spec, confine=work)


async def test_scripts_over_rest_give_their_parameters_and_ship(api: Api,
                                                                jp_root_dir: Path) -> None:
    """What the lab and a remote CLI use: notebook-info reads a script's parameters cell
    through Jupytext, POST /ship ships it; a kernel that is not installed is a 400 naming it."""
    (jp_root_dir / "jobs").mkdir()
    (jp_root_dir / "jobs" / "train.py").write_text(TRAIN_PY)
    info = js(await api("GET", "notebook-info", params={"path": "jobs/train.py"}))
    assert info["name"] == "train"
    assert [(p["name"], p["type"], p["help"]) for p in info["parameters"]] == [
        ("n", "int", "rows"), ("label", "str", "")]
    shipped = js(await api("POST", "ship", body={"path": "jobs/train.py"}, expect=201))
    assert shipped["job"]["name"] == "train" and shipped["version"]["number"] == 1
    (jp_root_dir / "jobs" / "other.py").write_text(
        "# ---\n# jupyter:\n#   kernelspec:\n#     name: julia-1.9\n#     language: julia\n"
        "#     display_name: Julia\n# ---\n\n# %%\n1 + 1\n")
    code, message = error_of(await api("POST", "ship", body={"path": "jobs/other.py"},
                                       expect=400))
    assert code == "bad_request" and "kernel 'julia-1.9' is not installed" in message
