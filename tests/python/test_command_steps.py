"""Command steps: ``command: [argv]`` or a templated string, run without a shell in the step's
project copy; outputs are the keys of the JSON file written at ``$ML_SHIP_OUTPUTS``; a timeout
kills the command's whole process group."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jupyter_ml_ship.errors import BadInput
from jupyter_ml_ship.pipelines.spec import load_pipeline

from .test_pipelines import TIMEOUT, explain, steps_of, write

COUNT_PY = """\
import argparse, json, os
ap = argparse.ArgumentParser()
ap.add_argument("--data")
ap.add_argument("--label")
a = ap.parse_args()
rows = open(a.data).read().splitlines()[1:]
print("counted", len(rows), "rows for", repr(a.label))
open("counted.txt", "w").write(str(len(rows)))
json.dump({"rows": len(rows), "label": a.label}, open(os.environ["ML_SHIP_OUTPUTS"], "w"))
"""

PIPELINE = """
name: cmds
parameters: {n: 3, label: "a b; touch pwned"}
steps:
  prepare:
    notebook: prepare.ipynb
    parameters: {n: "{{ params.n }}"}
  count:
    command: "python3 count.py --data {{ steps.prepare.files['out/clean.csv'] }} --label {{ params.label }}"
    depends_on: [prepare]
  check:
    notebook: check.ipynb
    depends_on: [count]
    parameters: {rows: "{{ steps.count.outputs.rows }}", label: "{{ steps.count.outputs.label }}"}
"""


def test_a_command_step_reads_an_upstream_file_and_its_outputs_go_downstream(svc, nb, tmp_path):
    nb("prepare.ipynb", "import os\nos.makedirs('out', exist_ok=True)\n"
       "with open('out/clean.csv', 'w') as f:\n    f.write('x\\n' + '\\n'.join(map(str, range(n))))",
       params="n = 1")
    nb("check.ipynb", "from jupyter_ml_ship import record\nrecord('seen', f'{rows}:{label}')",
       params="rows = 0\nlabel = ''")
    (tmp_path / "work" / "count.py").write_text(COUNT_PY)
    spec = write(tmp_path / "work" / "cmds.pipeline.yaml", PIPELINE)
    version = svc.ship_pipeline(spec).version
    assert not list((tmp_path / "work").glob(".ml-ship-command-*"))  # the generated file is gone
    count = next(s for s in version.steps if s.id == "count")
    assert count.job == "cmds-count" and count.declared_outputs is None
    info = svc.drive_pipeline_run(svc.run_pipeline("cmds", parameters={"n": 5}, detach=False).id,
                                  timeout=TIMEOUT)
    assert info.status == "succeeded", explain(svc, info)
    s = steps_of(info)
    # the label is one argument: no shell ran "touch pwned"
    assert s["count"].outputs == {"rows": 5, "label": "a b; touch pwned"}
    assert s["check"].outputs == {"seen": "5:a b; touch pwned"}
    log = svc.read_log(s["count"].run_id)[0].decode()
    assert "counted 5 rows for 'a b; touch pwned'" in log
    project = Path(svc.run_artifacts_dir(s["count"].run_id)).parent / "project"
    assert (project / "counted.txt").read_text() == "5"  # ran in the step's project copy
    assert not (project / "pwned").exists()
    assert s["count"].parameters["command"][:2] == ["python3", "count.py"]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_command_step_timeout_kills_its_process_group(svc, tmp_path):
    spec = write(tmp_path / "work" / "slow.pipeline.yaml", """
name: slow
steps:
  wait:
    command: ["sh", "-c", "sleep 300 & echo $! > sleeper.pid; echo started; wait"]
    timeout: 3
    retries: 0
""")
    svc.ship_pipeline(spec)
    info = svc.drive_pipeline_run(svc.run_pipeline("slow", detach=False).id, timeout=TIMEOUT)
    step = steps_of(info)["wait"]
    assert step.status == "timed_out", explain(svc, info)
    log = svc.read_log(step.run_id)[0].decode()
    assert "started" in log and "stopped the command 'sh' and its process group" in log
    pid_file = Path(svc.run_artifacts_dir(step.run_id)).parent / "project" / "sleeper.pid"
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid), f"the command's child {pid} outlived the step"


@pytest.mark.parametrize("step, message", [
    ("command: ''", r"steps\.c\.command: the command is empty"),
    ("command: \"dbt run 'unbalanced\"", r"steps\.c\.command: cannot split"),
    ("command: [1, {a: 2}]", r"steps\.c\.command: a list of arguments"),
    ("command: [echo]\n    notebook: x.ipynb", "exactly one of 'notebook'.*'command'"),
    ("command: [echo, hi]\n    parameters: {x: 1}", r"steps\.c\.parameters: a command step takes "
                                                     "no parameters"),
    ("command: \"echo {{ params.nope }}\"", "nope"),
])
def test_a_command_step_is_checked_at_load(tmp_path, step, message):
    spec = write(tmp_path / "bad.pipeline.yaml", f"name: bad\nsteps:\n  c:\n    {step}\n")
    with pytest.raises(BadInput, match=message):
        load_pipeline(spec)
