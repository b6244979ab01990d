"""Files between pipeline steps: ``{{ steps.X.files['PATH'] }}`` is where the next step reads a
file an upstream step wrote; references are checked before anything runs."""

from __future__ import annotations

import pytest

from jupyter_ml_ship.errors import BadInput

from .test_pipelines import TIMEOUT, explain, steps_of, write

FILES = """
name: files
parameters: {n: 3}
steps:
  prepare:
    notebook: prepare.ipynb
    parameters: {n: "{{ params.n }}"}
  train:
    notebook: train.ipynb
    depends_on: [prepare]
    parameters:
      data: "{{ steps.prepare.files['out/clean.csv'] }}"
      note: "read {{ steps.prepare.files['out/clean.csv'] }}"
"""


@pytest.fixture
def files_pipeline(nb, tmp_path):
    nb("prepare.ipynb", "import os\nos.makedirs('out', exist_ok=True)\n"
       "with open('out/clean.csv', 'w') as f:\n    f.write('x\\n' + '\\n'.join(map(str, range(n))))",
       params="n = 1")
    nb("train.ipynb", "from jupyter_ml_ship import record\n"
       "rows = open(data).read().splitlines()[1:]\nprint('train read', len(rows), 'rows')\n"
       "record('rows', len(rows))", params="data = ''\nnote = ''")
    return write(tmp_path / "work" / "files.pipeline.yaml", FILES)


def test_a_file_written_by_one_step_is_read_by_the_next(svc, files_pipeline):
    svc.ship_pipeline(files_pipeline)
    info = svc.drive_pipeline_run(svc.run_pipeline("files", parameters={"n": 5}, detach=False).id,
                                  timeout=TIMEOUT)
    assert info.status == "succeeded", explain(svc, info)
    s = steps_of(info)
    assert s["train"].outputs == {"rows": 5}
    data = s["train"].parameters["data"]
    assert data.endswith(f"/runs/{s['prepare'].run_id}/project/out/clean.csv")
    assert s["train"].parameters["note"] == f"read {data}"
    assert "train read 5 rows" in svc.read_log(s["train"].run_id)[0].decode()
    inputs = svc.run_files(s["train"].run_id).inputs
    assert [(i.parameter, i.file, i.step, i.run_id, i.job) for i in inputs] == [
        ("data", "out/clean.csv", "prepare", s["prepare"].run_id, "prepare"),
        ("note", "out/clean.csv", "prepare", s["prepare"].run_id, "prepare")]


def test_a_file_the_upstream_step_did_not_write_fails_the_step_naming_it(svc, nb, tmp_path):
    nb("writes.ipynb", "open('a.csv', 'w').write('1')")
    nb("reads.ipynb", "print(open(path).read())", params="path = ''")
    pipeline = write(tmp_path / "work" / "miss.pipeline.yaml", """
name: miss
steps:
  w: {notebook: writes.ipynb}
  r:
    notebook: reads.ipynb
    depends_on: [w]
    parameters: {path: "{{ steps.w.files['b.csv'] }}"}
""")
    svc.ship_pipeline(pipeline)
    info = svc.drive_pipeline_run(svc.run_pipeline("miss", detach=False).id, timeout=TIMEOUT)
    s = steps_of(info)
    assert info.status == "failed" and s["w"].status == "succeeded"
    assert s["r"].status == "failed" and s["r"].run_id is None  # it never started
    assert "b.csv" in s["r"].error.message and "a.csv" in s["r"].error.message


@pytest.mark.parametrize("ref, why", [
    ("{{ steps.nope.files['a.csv'] }}", "no such step"),
    ("{{ steps.w.files['../etc/passwd'] }}", "without '..'"),
    ("{{ steps.w.files['/abs.csv'] }}", "relative"),
    ("{{ steps.later.files['a.csv'] }}", "is not upstream"),
])
def test_bad_file_references_are_refused_before_anything_runs(svc, nb, tmp_path, ref, why):
    nb("writes.ipynb", "open('a.csv', 'w').write('1')")
    nb("reads.ipynb", "print(path)", params="path = ''")
    pipeline = write(tmp_path / "work" / "bad.pipeline.yaml", f"""
name: bad
steps:
  w: {{notebook: writes.ipynb}}
  r:
    notebook: reads.ipynb
    depends_on: [w]
    parameters: {{path: "{ref}"}}
  later: {{notebook: writes.ipynb, depends_on: [r]}}
""")
    with pytest.raises(BadInput, match=why) as exc:
        svc.ship_pipeline(pipeline)
    assert "steps.r.parameters" in exc.value.message
    assert svc.runs()[0] == [] and svc.jobs() == []
