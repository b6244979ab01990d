"""A pipeline is checked before anything runs; each problem says where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_ml_ship.errors import BadInput, NotFound

REC = "from jupyter_ml_ship import record\n"


@pytest.fixture
def notebooks(nb):
    nb("a.ipynb", REC + "record('rows', n * 10)\nrecord('path', 'x.csv')", params="n = 1")
    nb("b.ipynb", REC + "record('score', x + 1)", params="x = 0")
    nb("c.ipynb", REC + "for k in ('p', 'q'):\n    record(f'metric_{k}', 1)", params="x = 0")
    return nb


def pipeline(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "work" / "p.pipeline.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def rejected(svc, path: Path) -> str:
    """The error of checking, shipping and describing must agree; nothing may have run."""
    with pytest.raises(BadInput) as caught:
        svc.ship_pipeline(path)
    with pytest.raises(BadInput):
        svc.describe_pipeline_file(path)
    assert svc.runs()[0] == [] and svc.pipelines() == []
    return caught.value.message


def test_a_cycle_is_named(svc, notebooks, tmp_path):
    msg = rejected(svc, pipeline(tmp_path, """
steps:
  a: {notebook: a.ipynb}
  b: {notebook: b.ipynb, depends_on: [a, d]}
  c: {notebook: b.ipynb, depends_on: [b]}
  d: {notebook: b.ipynb, depends_on: [c]}
"""))
    assert "dependency cycle: b -> c -> d -> b" in msg
    assert msg.startswith("p.pipeline.yaml, line ")


def test_a_step_depending_on_itself_is_a_cycle(svc, notebooks, tmp_path):
    msg = rejected(svc, pipeline(tmp_path, "steps:\n  a: {notebook: a.ipynb, depends_on: a}\n"))
    assert "dependency cycle: a -> a" in msg


def test_bad_yaml_gives_line_and_column(svc, notebooks, tmp_path):
    msg = rejected(svc, pipeline(tmp_path, """name: p
steps:
  a:
    notebook: a.ipynb
    parameters: {n: "{{ params.n }}"
  b: {notebook: b.ipynb}
"""))
    assert "p.pipeline.yaml, line 6, column 3: invalid YAML" in msg


@pytest.mark.parametrize("text, expected", [
    ("steps:\n  a: {notebook: a.ipynb}\n  b: {notebook: b.ipynb, depends_on: [nope]}\n",
     "line 3: steps.b.depends_on.0: unknown step 'nope' (steps: a, b)"),
    ("steps:\n  a: {job: never-shipped}\n",
     "line 2: steps.a.job: no job named 'never-shipped'"),
    ("steps:\n  a: {notebook: missing.ipynb}\n", "missing.ipynb: no such notebook"),
    ("steps:\n  a: {notebook: a.ipynb}\n  b:\n    notebook: b.ipynb\n"
     "    parameters: {x: '{{ steps.a.outputs.rows }}'}\n",
     "line 5: steps.b.parameters.x: {{ steps.a.outputs.rows }}: step 'a' is not upstream of 'b'"),
    ("steps:\n  a: {notebook: a.ipynb}\n  b:\n    notebook: b.ipynb\n    depends_on: [a]\n"
     "    parameters: {x: '{{ steps.a.outputs.rowz }}'}\n",
     "step 'a' (job a) does not record an output 'rowz' (it records: path, rows)"),
    ("steps:\n  b:\n    notebook: b.ipynb\n    parameters: {x: '{{ params.day }}'}\n",
     "line 4: steps.b.parameters.x: {{ params.day }}: unknown pipeline parameter 'day' "
     "(parameters: none)"),
    ("steps:\n  b:\n    notebook: b.ipynb\n    parameters: {y: 1}\n",
     "line 4: steps.b.parameters.y: job b has no parameter 'y' (parameters: x)"),
    ("steps:\n  b:\n    notebook: b.ipynb\n    parameters: {x: '{{ env.HOME }}'}\n",
     "unknown name 'env' in a template"),
    ("steps:\n  b: {notebook: b.ipynb, retries: many}\n",
     "steps.b.retries: must be an integer from 0 to 20"),
    ("steps:\n  b: {notebook: b.ipynb, job: b}\n", "give exactly one of 'notebook'"),
    ("steps:\n  b: {notebook: b.ipynb, cache: maybe}\n", "steps.b.cache: must be true or false"),
    ("steps:\n  b: {notebook: b.ipynb, depends-on: [a]}\n", "steps.b.depends-on: unknown key"),
    ("name: Bad Name\nsteps:\n  b: {notebook: b.ipynb}\n", "line 1: name: pipeline name"),
])
def test_bad_pipelines_are_rejected_before_anything_runs(svc, notebooks, tmp_path, text,
                                                         expected):
    assert expected in rejected(svc, pipeline(tmp_path, text))


def test_dynamic_output_names_are_accepted_until_run_time(svc, notebooks, tmp_path):
    path = pipeline(tmp_path, """
steps:
  c: {notebook: c.ipynb}
  b:
    notebook: b.ipynb
    depends_on: [c]
    parameters: {x: "{{ steps.c.outputs.metric_p }}"}
""")
    desc = svc.describe_pipeline_file(path)
    assert {s.id: s.declared_outputs for s in desc.steps} == {"c": None, "b": ["score"]}


def test_describe_lays_out_the_graph_without_shipping(svc, notebooks, tmp_path):
    path = pipeline(tmp_path, """
name: graph
parameters: {n: 3}
steps:
  a: {notebook: a.ipynb, parameters: {n: "{{ params.n }}"}}
  b:
    notebook: b.ipynb
    depends_on: [a]
    parameters: {x: "{{ steps.a.outputs.rows }}"}
    retries: 2
""")
    desc = svc.describe_pipeline_file(path)
    assert desc.name == "graph" and desc.parameters == {"n": 3}
    b = {s.id: s for s in desc.steps}["b"]
    assert (b.job, b.depends_on, b.retries, b.declared_outputs) == ("b", ["a"], 2, ["score"])
    assert svc.jobs() == [] and svc.pipelines() == []


def test_versions_are_content_addressed_and_roll_back(svc, notebooks, nb, tmp_path):
    text = "name: vp\nsteps:\n  a: {notebook: a.ipynb}\n"
    path = pipeline(tmp_path, text)
    first = svc.ship_pipeline(path)
    assert first.created and first.version.number == 1
    pipeline(tmp_path, "# a comment and other layout change nothing\n" + text.replace(
        "{notebook: a.ipynb}", "\n    notebook: a.ipynb"))
    same = svc.ship_pipeline(path)
    assert not same.created and same.version.digest == first.version.digest
    nb("a.ipynb", REC + "record('rows', n * 100)\nrecord('path', 'x.csv')", params="n = 1")
    second = svc.ship_pipeline(path)  # the notebook changed: a new job version, a new pipeline
    assert second.created and second.version.number == 2
    assert second.version.steps[0].version == 2
    assert [v.number for v in svc.pipeline_versions("vp")] == [2, 1]
    info = svc.rollback_pipeline("vp", 1)
    assert info.current_version == 1 and info.latest_version == 2
    assert svc.pipeline_version("vp").steps[0].version == 1
    with pytest.raises(NotFound):
        svc.rollback_pipeline("vp", 7)


def test_job_steps_pin_the_current_version(svc, notebooks, nb, tmp_path):
    svc.ship(tmp_path / "work" / "b.ipynb")
    nb("b.ipynb", REC + "record('score', x + 2)", params="x = 0")
    svc.ship(tmp_path / "work" / "b.ipynb")
    path = pipeline(tmp_path, "steps:\n  cur: {job: b}\n  old: {job: b@1}\n")
    steps = {s.id: s.version for s in svc.ship_pipeline(path).version.steps}
    assert steps == {"cur": 2, "old": 1}
    with pytest.raises(BadInput, match="job 'b' has no version 5"):
        svc.ship_pipeline(pipeline(tmp_path, "steps:\n  x: {job: b@5}\n"))


def test_unknown_run_parameter_and_wrong_type_are_rejected_at_start(svc, notebooks, tmp_path):
    svc.ship_pipeline(pipeline(tmp_path, """
name: typed
parameters: {n: 1}
steps:
  a: {notebook: a.ipynb, parameters: {n: "{{ params.n }}"}}
"""))
    with pytest.raises(BadInput, match="unknown parameter 'm'"):
        svc.run_pipeline("typed", parameters={"m": 1}, detach=False)
    with pytest.raises(BadInput, match="parameter 'n' must be int"):
        svc.run_pipeline("typed", parameters={"n": "ten"}, detach=False)
    assert svc.pipeline_runs()[0] == [] and svc.runs()[0] == []


def test_a_folder_of_notebooks_is_a_pipeline_by_their_depends_on(svc, nb, tmp_path):
    nb("load.ipynb", "print('load')", metadata={"ml_ship": {"name": "load"}})
    nb("fit.ipynb", "print('fit')", metadata={"ml_ship": {"depends_on": ["load"]}})
    nb("report.ipynb", "print('report')",
       metadata={"ml_ship": {"depends_on": ["fit", "load"]}})
    desc = svc.describe_pipeline_file(tmp_path / "work")
    assert desc.name == "work"
    assert {s.id: s.depends_on for s in desc.steps} == {
        "fit": ["load"], "load": [], "report": ["fit", "load"]}
    nb("orphan.ipynb", "print(1)", metadata={"ml_ship": {"depends_on": ["nowhere"]}})
    with pytest.raises(BadInput, match="orphan.ipynb: metadata.ml_ship.depends_on: 'nowhere'"):
        svc.describe_pipeline_file(tmp_path / "work")


def test_templates_keep_json_types_and_stay_sandboxed():
    from jupyter_ml_ship.pipelines.templates import context, render

    ctx = context({"day": "2024-01-01", "n": 3},
                  {"a": {"rows": 500, "acc": [0.7, 0.9], "items": {"k": 1}}})
    assert render("{{ steps.a.outputs.rows }}", ctx, "x") == 500
    assert render(" {{ params.n }} ", ctx, "x") == 3
    assert render("{{ steps.a.outputs.acc | max }}", ctx, "x") == 0.9
    assert render("{{ steps.a.outputs['items'] }}", ctx, "x") == {"k": 1}  # not dict.items
    assert render("day={{ params.day }}/{{ params.n }}", ctx, "x") == "day=2024-01-01/3"
    assert render(["{{ params.n }}", {"deep": "{{ params.day }}"}], ctx, "x") == \
        [3, {"deep": "2024-01-01"}]
    with pytest.raises(BadInput, match="step a's outputs has no 'nope'"):
        render("{{ steps.a.outputs.nope }}", ctx, "steps.b.parameters.x")
    with pytest.raises(BadInput, match="unsafe"):
        render("{{ params.day.__class__.__mro__ }}", ctx, "x")


def test_an_output_missing_at_run_time_fails_the_step_that_needs_it(svc, notebooks, tmp_path):
    svc.ship_pipeline(pipeline(tmp_path, """
name: dyn
steps:
  c: {notebook: c.ipynb}
  b:
    notebook: b.ipynb
    depends_on: [c]
    parameters: {x: "{{ steps.c.outputs.metric_z }}"}
"""))
    info = svc.drive_pipeline_run(svc.run_pipeline("dyn", detach=False).id, timeout=240)
    steps = {s.id: s for s in info.steps}
    assert steps["c"].status == "succeeded" and set(steps["c"].outputs) == {"metric_p", "metric_q"}
    assert steps["b"].status == "failed" and steps["b"].run_id is None
    assert "step c's outputs has no 'metric_z'" in steps["b"].error.message
    assert info.status == "failed" and "step b failed" in info.error.message
