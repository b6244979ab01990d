"""Where a run failed, as the user knows the notebook: the cell's number (papermill's
injected cell not counted), its source, the line, the traceback; the same in the CLI."""

from __future__ import annotations

import json

from tests.python.test_cli import ml

FAILING = "a = 1\nb = 0\nprint(a / b)"


def ship_failing(svc, nb):
    svc.ship(nb("fails.ipynb", "print('first')", "#md a note", FAILING, "print('never')",
                params="rows = 10"))


def test_failing_cell_has_the_same_number_with_and_without_parameters(svc, nb):
    ship_failing(svc, nb)
    plain = svc.wait(svc.run("fails").id, 120)
    passed = svc.wait(svc.run("fails", parameters={"rows": 3}).id, 120)
    for info in (plain, passed):
        error = info.error
        assert info.status == "failed"
        # parameters cell 1, print 2, markdown 3, failing cell 4 — as in the user's notebook
        assert error.cell_number == 4, error
        assert error.line == 3
        assert error.cell_source == FAILING
        assert "ZeroDivisionError" in error.traceback
        assert "\x1b[" in error.traceback  # colours kept for the lab to render
        assert error.message == "cell 4, line 3 raised ZeroDivisionError: division by zero"
    # cell_index keeps its meaning: the index in the output notebook (one more with the injected cell)
    assert plain.error.cell_index == 5 and passed.error.cell_index == 6
    output = json.loads(svc.output_path(passed.id).read_text())
    assert "".join(output["cells"][passed.error.cell_index]["source"]) == FAILING


def test_a_line_inside_a_helper_still_points_at_the_cell_line(svc, nb):
    svc.ship(nb("helper.ipynb", "def f(x):\n    return 1 / x", "y = 2\nf(0)"))
    error = svc.wait(svc.run("helper").id, 120).error
    assert error.cell_number == 2 and error.line == 2  # the call in the failing cell


def test_status_prints_the_cell_with_its_line_marked_and_the_traceback(cli_env, tmp_path):
    from tests.python.conftest import make_notebook

    path = make_notebook(tmp_path / "st.ipynb", "print('first')", FAILING, params="rows = 1")
    p = ml(cli_env, "ship", str(path), "--run", "--wait", "-p", "rows", "2")
    assert p.returncode != 0
    run_id = json.loads(ml(cli_env, "runs", "--json", check=0).stdout)["runs"][0]["id"]
    out = ml(cli_env, "status", run_id, check=0).stdout
    assert "cell 3, line 3 raised ZeroDivisionError: division by zero" in out
    assert "cell 3, line 3:" in out
    assert "-->   3  print(a / b)" in out
    assert "traceback:" in out and "ZeroDivisionError" in out.split("traceback:")[1]
    assert "\x1b[" not in out  # not a terminal: plain text
    data = json.loads(ml(cli_env, "status", run_id, "--json", check=0).stdout)
    assert data["error"]["cell_number"] == 3 and data["error"]["line"] == 3
