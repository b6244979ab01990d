"""``ml-ship pipeline …`` as a user types it, in a subprocess, on the example pipeline."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.python.conftest import EXAMPLES, REPO


def ml_ship(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "jupyter_ml_ship", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_example_pipeline_runs_with_data_flowing_between_steps(cli_env):
    done = ml_ship(cli_env, "pipeline", "run", "examples/churn.pipeline.yaml",
                   "-p", "day", "2024-02-01", "-p", "rows", "300", "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "shipped pipeline churn v1 (new version, 3 steps)" in done.stderr
    assert "succeeded in" in done.stderr
    run_id = done.stderr.split("pipeline run ")[1].split()[0]

    status = ml_ship(cli_env, "pipeline", "status", run_id, "--json")
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    steps = {s["id"]: s for s in info["steps"]}
    assert info["status"] == "succeeded" and info["parameters"]["day"] == "2024-02-01"
    prepare, train, evaluate = steps["prepare"], steps["train"], steps["evaluate"]
    assert prepare["parameters"] == {"day": "2024-02-01", "rows": 300}
    assert prepare["outputs"]["rows"] == 300
    assert prepare["outputs"]["data_path"].endswith("customers-2024-02-01.csv")
    assert train["parameters"] == {"data_path": prepare["outputs"]["data_path"]}
    assert evaluate["parameters"] == {"accuracy": train["outputs"]["accuracy"], "rows": 300}
    assert evaluate["outputs"] == {"passed": True}
    log = ml_ship(cli_env, "logs", train["run_id"]).stdout
    assert "training on 300 customers" in log

    listed = json.loads(ml_ship(cli_env, "pipeline", "runs", "--json").stdout)
    assert [r["id"] for r in listed["runs"]] == [run_id]
    versions = ml_ship(cli_env, "pipeline", "versions", "churn")
    assert "prepare=prepare@1, train=train@1, evaluate=evaluate@1" in versions.stdout

    # the same again: every step comes from the cache, at once
    again = ml_ship(cli_env, "pipeline", "run", "churn", "-p", "day", "2024-02-01",
                    "-p", "rows", "300", "--wait", "--json")
    assert again.returncode == 0, again.stderr
    assert all(s["cached"] and s["status"] == "succeeded" for s in json.loads(again.stdout)["steps"])


def test_pipeline_cli_errors_are_one_line_with_exit_2(cli_env, tmp_path):
    bad = tmp_path / "bad.pipeline.yaml"
    # in the CLI a step may name a notebook anywhere the user can read (here: outside the folder)
    bad.write_text(f"steps:\n  a: {{notebook: {EXAMPLES / 'hello.ipynb'}, depends_on: [a]}}\n")
    done = ml_ship(cli_env, "pipeline", "run", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == ("ml-ship: error: bad.pipeline.yaml, line 2: steps.a.depends_on:"
                                   " dependency cycle: a -> a")
    missing = ml_ship(cli_env, "pipeline", "status", "nope")
    assert missing.returncode == 2 and "no pipeline run with id 'nope'" in missing.stderr
    check = ml_ship(cli_env, "pipeline", "check", "examples/churn.pipeline.yaml")
    assert check.returncode == 0, check.stderr
    assert "pipeline churn is valid (3 steps)" in check.stderr
    assert "churn_rate, data_path, rows" in check.stdout
