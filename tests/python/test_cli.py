"""The ml-ship command as a user types it: exit codes, --json, logs, output."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.python.conftest import EXAMPLES

ML_SHIP = [sys.executable, "-m", "jupyter_ml_ship"]


def ml(env, *args, check=None, timeout=180):
    proc = subprocess.run([*ML_SHIP, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def test_ship_run_wait_and_output_show_the_parameters(cli_env, tmp_path):
    p = ml(cli_env, "ship", str(EXAMPLES / "hello.ipynb"), "--run", "--wait",
           "-p", "name", "Ada Lovelace", "-p", "times", "2", check=0)
    assert p.stdout.count("hello, Ada Lovelace!") == 2
    assert "shipped hello v1 (new version" in p.stderr
    assert "succeeded" in p.stderr
    runs = json.loads(ml(cli_env, "runs", "--json", check=0).stdout)["runs"]
    assert len(runs) == 1 and runs[0]["parameters"] == {"name": "Ada Lovelace", "times": 2}
    run_id = runs[0]["id"]
    out = tmp_path / "out.ipynb"
    ml(cli_env, "output", run_id, "-o", str(out), check=0)
    nb = json.loads(out.read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert 'name = "Ada Lovelace"' in "".join(injected[0]["source"])
    status = json.loads(ml(cli_env, "status", run_id, "--json", check=0).stdout)
    assert status["status"] == "succeeded" and status["outputs"] == {"greeted": "Ada Lovelace"}
    assert "hello, Ada Lovelace!" in ml(cli_env, "logs", run_id, check=0).stdout


def test_versions_rollback_and_jobs_listing(cli_env, tmp_path):
    nb = tmp_path / "hello.ipynb"
    nb.write_text((EXAMPLES / "hello.ipynb").read_text())
    ml(cli_env, "ship", str(nb), "-m", "first", check=0)
    data = json.loads(nb.read_text())
    data["cells"][-1]["source"] = "print('v2 speaking')"
    nb.write_text(json.dumps(data))
    ml(cli_env, "ship", str(nb), "-m", "second", check=0)
    versions = json.loads(ml(cli_env, "versions", "hello", "--json", check=0).stdout)["versions"]
    assert [(v["number"], v["message"], v["is_current"]) for v in versions] == [
        (2, "second", True), (1, "first", False)]
    ml(cli_env, "rollback", "hello", "1", check=0)
    jobs = json.loads(ml(cli_env, "jobs", "--json", check=0).stdout)["jobs"]
    assert jobs[0]["current_version"] == 1 and jobs[0]["latest_version"] == 2
    p = ml(cli_env, "run", "hello", "--wait", check=0)
    assert "hello, world!" in p.stdout and "v2 speaking" not in p.stdout
    p = ml(cli_env, "run", "hello@2", "--wait", check=0)
    assert "v2 speaking" in p.stdout


def test_bad_input_exits_2_with_one_line_and_no_traceback(cli_env, tmp_path):
    ml(cli_env, "ship", str(EXAMPLES / "hello.ipynb"), check=0)
    cases = [
        (["ship", str(tmp_path / "missing.ipynb")], "no such file"),
        (["run", "hello", "-p", "times", "many"], "parameter 'times' must be int"),
        (["run", "hello", "-p", "nme", "x"], "unknown parameter 'nme'"),
        (["run", "nope"], "no job named 'nope'"),
        (["run", "hello@x"], "must be a number"),
        (["rollback", "hello", "7"], "has no version 7"),
        (["status", "0000"], "no run with id '0000'"),
        (["ship", str(EXAMPLES / "hello.ipynb"), "--name", "Bad Name"], "not allowed"),
    ]
    for args, message in cases:
        p = ml(cli_env, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert message in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_a_failed_run_with_wait_exits_1(cli_env, tmp_path):
    p = ml(cli_env, "ship", str(EXAMPLES / "evaluate.ipynb"), "--wait", "-p", "accuracy", "0.1")
    assert p.returncode == 1
    assert "below the bar" in p.stderr + p.stdout
    assert "failed" in p.stderr


def test_json_of_a_waited_run_is_one_document(cli_env):
    p = ml(cli_env, "ship", str(EXAMPLES / "hello.ipynb"), "--wait", "--json", check=0)
    doc = json.loads(p.stdout)
    assert doc["status"] == "succeeded" and doc["outputs"]["greeted"] == "world"


def test_follow_logs_of_a_live_run(cli_env, tmp_path):
    nb = tmp_path / "ticks.ipynb"
    from tests.python.conftest import make_notebook

    make_notebook(nb, "import time\nfor i in range(5):\n    print(f'tick {i}', flush=True)\n"
                      "    time.sleep(0.3)")
    ml(cli_env, "ship", str(nb), check=0)
    run_id = ml(cli_env, "run", "ticks", check=0).stdout.strip()
    p = ml(cli_env, "logs", run_id, "-f", check=0)
    assert [f"tick {i}" in p.stdout for i in range(5)] == [True] * 5
    assert json.loads(ml(cli_env, "status", run_id, "--json").stdout)["status"] == "succeeded"


def test_home_option_and_help(tmp_path, cli_env):
    home = tmp_path / "elsewhere"
    ml(cli_env, "--home", str(home), "ship", str(EXAMPLES / "hello.ipynb"), check=0)
    assert (home / "ml_ship.db").exists()
    assert "ship" in ml(cli_env, "--help", check=0).stdout
    assert Path(home / "jobs" / "hello").is_dir()


def test_runs_lists_a_run_that_ended_with_no_server_watching(cli_env, home):
    ml(cli_env, "ship", str(EXAMPLES / "hello.ipynb"), check=0)
    run_id = json.loads(ml(cli_env, "run", "hello", "--json", check=0).stdout)["id"]
    result = home / "runs" / run_id / "result.json"
    deadline = time.monotonic() + 120
    while not result.exists() and time.monotonic() < deadline:  # the runner ended by itself
        time.sleep(0.1)
    assert result.exists()
    [listed] = json.loads(ml(cli_env, "runs", "--json", check=0).stdout)["runs"]
    assert listed["status"] == "succeeded"  # not the "running" of the record's last update
    assert f"{run_id}  hello  v1       succeeded" in ml(cli_env, "runs", check=0).stdout


def test_warm_start_status_run_and_stop(cli_env):
    assert json.loads(ml(cli_env, "warm", "--json", check=0).stdout)["running"] is False
    ml(cli_env, "warm", "start", check=0)
    state = json.loads(ml(cli_env, "warm", "status", "--json", check=0).stdout)
    assert state["running"] and state["pid"]
    ml(cli_env, "ship", str(EXAMPLES / "hello.ipynb"), check=0)
    run = json.loads(ml(cli_env, "run", "hello", "--wait", "--json", "-p", "name", "Warm",
                        check=0).stdout)
    assert run["status"] == "succeeded"
    assert "hello, Warm!" in ml(cli_env, "logs", run["id"], check=0).stdout
    assert "stopped" in ml(cli_env, "warm", "stop", check=0).stderr
    assert json.loads(ml(cli_env, "warm", "--json", check=0).stdout)["running"] is False
    off = ml({**cli_env, "ML_SHIP_WARM_RUNNER": "0"}, "warm", "start", check=2)
    assert "turned off" in off.stderr and "Traceback" not in off.stderr


def test_discover_says_what_it_recorded_and_when_airflow_is_down(cli_env):
    # without Airflow configured there is nothing to look at
    p = ml(cli_env, "discover", check=0)
    assert p.stdout == "" and "no new runs" in p.stderr
    assert json.loads(ml(cli_env, "discover", "--json", check=0).stdout) == {"runs": []}
    # Airflow configured but not there: said in one line, exit 2 (the server would skip it)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**cli_env, "ML_SHIP_AIRFLOW_URL": f"http://127.0.0.1:{port}",
           "ML_SHIP_AIRFLOW_USERNAME": "ada", "ML_SHIP_AIRFLOW_PASSWORD": "not-logged-pw"}
    p = ml(env, "discover")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert f"127.0.0.1:{port}" in p.stderr and "Traceback" not in p.stderr
    assert "not-logged-pw" not in p.stderr


def test_jobs_and_pipelines_list_their_owner_and_owner_groups(cli_env, tmp_path):
    from tests.python.conftest import make_notebook

    env = {**cli_env, "ML_SHIP_AUTHOR": "ada"}
    shared = make_notebook(tmp_path / "shared.ipynb", "print(1)",
                           metadata={"ml_ship": {"owners": ["ops", "data"]}})
    make_notebook(tmp_path / "solo.ipynb", "print(2)")
    ml(env, "ship", str(shared), check=0)
    pipe = tmp_path / "nightly.pipeline.yaml"
    pipe.write_text("name: nightly\nowners: [ops]\nrun_by: team\nsteps:\n"
                    "  solo: {notebook: solo.ipynb}\n")
    ml(env, "pipeline", "ship", str(pipe), check=0)

    head, *lines = ml(env, "jobs", check=0).stdout.splitlines()
    assert head.split()[:3] == ["JOB", "OWNER", "CURRENT"]
    rows = {line.split()[0]: line for line in lines}
    assert rows["shared"].index("ada (ops, data)") == head.index("OWNER")
    assert rows["solo"][head.index("OWNER"):].split()[:2] == ["ada", "v1"]
    head, *lines = ml(env, "pipeline", "list", check=0).stdout.splitlines()
    assert head.split()[:2] == ["PIPELINE", "OWNER"]
    assert lines[0].startswith("nightly") and lines[0].index("ada (ops)") == head.index("OWNER")
    listed = json.loads(ml(env, "pipeline", "list", "--json", check=0).stdout)["pipelines"]
    assert [(p["owner"], p["owners"], p["run_by"]) for p in listed] == [("ada", ["ops"], "team")]


def test_ship_takes_a_bigger_project_folder_when_told(cli_env, tmp_path):
    from .conftest import make_notebook

    nb = make_notebook(tmp_path / "big" / "train.ipynb", "print(len(open('data.bin', 'rb').read()))")
    (tmp_path / "big" / "data.bin").write_bytes(b"x" * 300_000)
    (tmp_path / "big" / "notes.txt").write_text("two project files")
    refused = ml(cli_env, "ship", str(nb), "--max-bytes", "100K", check=2)
    assert "limit 100.0 KB" in refused.stderr and "data.bin (293.0 KB)" in refused.stderr
    assert "--max-bytes" in refused.stderr and "Traceback" not in refused.stderr
    assert "2 files (limit 1)" in ml(cli_env, "ship", str(nb), "--max-files", "1", check=2).stderr
    bad = ml(cli_env, "ship", str(nb), "--max-bytes", "lots", check=2)
    assert "--max-bytes: 'lots' is not a size" in bad.stderr
    assert "is not a positive whole number" in ml(cli_env, "ship", str(nb), "--max-files", "0",
                                                  check=2).stderr
    assert json.loads(ml(cli_env, "jobs", "--json", check=0).stdout)["jobs"] == []
    shipped = json.loads(ml(cli_env, "ship", str(nb), "--max-bytes", "1M", "--max-files", "2",
                            "--run", "--wait", "--json", check=0).stdout)
    assert shipped["status"] == "succeeded"
    assert "300000" in ml(cli_env, "logs", shipped["id"], check=0).stdout


def test_audit_lists_the_trail_and_history_is_its_old_name_with_a_note(cli_env, tmp_path):
    nb = tmp_path / "hello.ipynb"
    nb.write_text((EXAMPLES / "hello.ipynb").read_text())
    ml(cli_env, "ship", str(nb), "-m", "first", check=0)
    audit = ml(cli_env, "audit", "hello", check=0)
    assert "ship" in audit.stdout and "v1" in audit.stdout and audit.stderr == ""
    old = ml(cli_env, "history", "hello", "--json", check=0)
    assert json.loads(old.stdout) == json.loads(ml(cli_env, "audit", "hello", "--json",
                                                   check=0).stdout)
    assert old.stderr.strip() == "ml-ship: note: `ml-ship history` is now `ml-ship audit`"
