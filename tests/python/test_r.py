"""R notebooks (IRkernel): the parameters cell read and typed, parameters injected by papermill's
R translator, ``record()`` from R, values passed Python -> R -> Python in a pipeline, and a
kernel that is not installed refused at ship time. Real R and IRkernel (``scripts/r-up.sh``):
skipped without them unless ``ML_SHIP_REQUIRE`` names ``r``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_ml_ship.errors import BadInput
from jupyter_ml_ship.languages import installed_kernels
from jupyter_ml_ship.languages.r import read_parameters

from .conftest import require
from .test_docker import docker_settings, dsvc, job_name  # noqa: F401  (fixtures)

R_KERNEL = {"name": "ir", "display_name": "R", "language": "R"}
TIMEOUT = 120


@pytest.fixture
def r_kernel() -> None:
    require("r", "ir" in installed_kernels(),
            "no 'ir' Jupyter kernel (run scripts/r-up.sh: R and IRkernel)")


def r_notebook(nb, name: str, *cells: str, params: str | None = None) -> Path:
    return nb(name, *cells, params=params, metadata={"kernelspec": R_KERNEL})


def test_an_r_parameters_cell_is_read_with_python_types() -> None:
    found = read_parameters(
        'x <- 1  # rows to read\nname = "a"\nflag <- TRUE\nv <- c(1, 2)\n'
        'w <- c(0.5,\n       1.5)\nopts <- list(a = 1L, b = "x")\nnothing <- NULL\n'
        'today <- Sys.Date()\nn <- 3L\n')
    assert [(p.name, p.inferred_type_name, p.default, p.help) for p in found] == [
        ("x", "float", "1", "rows to read"), ("name", "str", "'a'", ""),
        ("flag", "bool", "True", ""), ("v", "list", "[1, 2]", ""),
        ("w", "list", "[0.5, 1.5]", ""), ("opts", "dict", "{'a': 1, 'b': 'x'}", ""),
        ("nothing", "None", "None", ""), ("today", "None", "Sys.Date()", ""),
        ("n", "int", "3", ""),
    ]


def test_an_r_notebook_ships_typed_runs_with_injected_values_and_records(svc, nb,
                                                                         r_kernel) -> None:
    path = r_notebook(
        nb, "model.ipynb",
        'cat(sprintf("name=%s flag=%s n=%d\\n", name, flag, length(v)))',
        'record("rmse", 0.123456789)\nrecord("total", x + sum(v))\nrecord("who", name)',
        params='x <- 1  # rows\nname = "a"\nflag <- TRUE\nv <- c(1, 2)')
    shipped = svc.ship(path).version
    assert [(p.name, p.type, p.default) for p in shipped.parameters] == [
        ("x", "float", "1"), ("name", "str", "'a'"), ("flag", "bool", "True"),
        ("v", "list", "[1, 2]")]
    assert shipped.parameters[0].help == "rows"
    info = svc.wait(svc.run("model", parameters={
        "x": 5, "name": "it's \"R\"", "flag": False, "v": [3, 4, 10]}).id, TIMEOUT)
    assert info.status == "succeeded", info.error
    # the exact double (jsonlite, full precision), the vector summed in R, the string intact
    assert info.outputs == {"rmse": 0.123456789, "total": 22, "who": "it's \"R\""}
    out = json.loads(svc.output_path(info.id).read_text())
    injected = next(c for c in out["cells"]
                    if "injected-parameters" in c["metadata"].get("tags", []))
    source = "".join(injected["source"])
    assert "v = c(3, 4, 10)" in source and "flag = FALSE" in source
    assert "name=it's \"R\" flag=FALSE n=3" in svc.read_log(info.id)[0].decode()
    with pytest.raises(BadInput, match="parameter 'x'"):
        svc.run("model", parameters={"x": "many"})


def test_an_r_error_names_the_users_cell(svc, nb, r_kernel) -> None:
    svc.ship(r_notebook(nb, "bad.ipynb", 'cat("before\\n")', 'stop("no data for ", day)',
                        params='day <- "mon"'))
    info = svc.wait(svc.run("bad").id, TIMEOUT)
    assert info.status == "failed"
    # cell 2 of the user's notebook: neither the record() preamble nor papermill's cell counts
    assert info.error is not None and "no data for mon" in info.error.message
    assert info.error.cell_number == 3, info.error


PIPELINE = """
name: polyglot
parameters: {n: 4}
steps:
  prepare:
    notebook: prepare.ipynb
    parameters: {n: "{{ params.n }}"}
  model:
    notebook: model.ipynb
    depends_on: [prepare]
    parameters: {values: "{{ steps.prepare.outputs.values }}", label: "{{ steps.prepare.outputs.label }}"}
  report:
    notebook: report.ipynb
    depends_on: [model]
    parameters: {mean: "{{ steps.model.outputs.mean }}", tag: "{{ steps.model.outputs.tag }}"}
"""


def test_a_python_r_python_pipeline_passes_values(svc, nb, tmp_path, r_kernel) -> None:
    rec = "from jupyter_ml_ship import record\n"
    nb("prepare.ipynb", rec + "record('values', [float(i) for i in range(1, n + 1)])\n"
       "record('label', f'first {n}')", params="n = 2")
    r_notebook(nb, "model.ipynb",
               'record("mean", mean(values))\nrecord("tag", toupper(label))',
               params='values <- c(0)\nlabel <- ""')
    nb("report.ipynb", rec + "record('report', f'{tag}: {mean:.2f}')", params="mean = 0.0\ntag = ''")
    spec = tmp_path / "work" / "polyglot.pipeline.yaml"
    spec.write_text(PIPELINE)
    svc.ship_pipeline(spec)
    info = svc.drive_pipeline_run(svc.run_pipeline("polyglot", detach=False).id, timeout=TIMEOUT)
    steps = {s.id: s for s in info.steps}
    assert info.status == "succeeded", [(s.id, s.status, s.error) for s in info.steps]
    assert steps["model"].outputs == {"mean": 2.5, "tag": "FIRST 4"}
    assert steps["report"].outputs == {"report": "FIRST 4: 2.50"}


def test_a_kernel_that_is_not_installed_is_refused_at_ship(svc, nb, cli_env) -> None:
    path = nb("julia.ipynb", "1 + 1", metadata={
        "kernelspec": {"name": "julia-1.9", "display_name": "Julia", "language": "julia"}})
    with pytest.raises(BadInput, match=r"kernel 'julia-1\.9' is not installed.*python3"):
        svc.ship(path)
    assert svc.jobs() == []
    done = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "ship", str(path)],
                          env=cli_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "julia-1.9" in done.stderr and "python3" in done.stderr


def test_an_r_notebook_runs_on_docker_with_r_in_its_image(docker_settings, job_name,
                                                          dsvc, nb, r_kernel) -> None:
    path = r_notebook(nb, "dr.ipynb", 'record("total", sum(v) * k)\nrecord("r", R.version$major)',
                      params="v <- c(1, 2)\nk <- 1")
    dsvc.ship(path, name=job_name)
    info = dsvc.wait(dsvc.run(job_name, parameters={"v": [5, 6], "k": 2},
                              backend="docker").id, 600)
    assert info.status == "succeeded", (info.error, dsvc.read_log(info.id)[0].decode()[-3000:])
    assert info.outputs == {"total": 22, "r": "4"}  # R 4 from the image's Debian
