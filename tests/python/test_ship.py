"""Shipping: versions are immutable, content-addressed, and bad input is refused clearly."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from jupyter_ml_ship.errors import BadInput, NotFound, TooLarge


def test_ship_creates_version_and_reship_unchanged_reuses_it(svc, nb):
    path = nb("Daily Report.ipynb", "print(n)", params="n = 3\nname = 'x'\nrate = 0.5\nflag = True")
    first = svc.ship(path, message="first")
    assert first.created and first.version.number == 1
    assert first.job.name == "daily-report"
    assert {p.name: p.type for p in first.version.parameters} == {
        "n": "int", "name": "str", "rate": "float", "flag": "bool"
    }
    again = svc.ship(path)
    assert not again.created and again.version.number == 1
    assert [v.number for v in svc.versions("daily-report")] == [1]


def test_outputs_and_counts_do_not_change_the_digest(svc, nb):
    path = nb("a.ipynb", "print(1)")
    v1 = svc.ship(path).version
    data = nbformat.read(path, as_version=4)
    data.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    data.cells[0].execution_count = 7
    nbformat.write(data, path)
    assert svc.ship(path).version.digest == v1.digest
    data.cells[0].source = "print(2)"
    nbformat.write(data, path)
    v2 = svc.ship(path, message="print two").version
    assert v2.number == 2 and v2.digest != v1.digest and v2.is_current


def test_ship_skip_cells_are_not_shipped(svc, nb):
    path = nb("s.ipynb", "x = 1", "print('explore')", "print(x)", tags={1: ["ship-skip"]})
    assert svc.ship(path).version.number == 1
    snapshot = json.loads(svc.version_notebook("s").read_text())
    sources = ["".join(c["source"]) for c in snapshot["cells"]]
    assert sources == ["x = 1", "print(x)"]


def test_rollback_moves_the_pointer_and_keeps_history(svc, nb):
    path = nb("r.ipynb", "print('one')")
    svc.ship(path)
    nb("r.ipynb", "print('two')")
    svc.ship(path)
    job = svc.rollback("r", 1)
    assert job.current_version == 1 and job.latest_version == 2
    assert [(v.number, v.is_current) for v in svc.versions("r")] == [(2, False), (1, True)]
    with pytest.raises(NotFound, match="no version 5"):
        svc.rollback("r", 5)


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("just some text", "malformed JSON at line 1, column 1"),
        ('{"cells": [}', "malformed JSON at line 1, column 12"),
        ('{"a": 1}', "no 'nbformat' field"),
        ('{"nbformat": 2, "worksheets": []}', "nbformat 2 is not supported"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}',
         "invalid notebook"),
    ],
)
def test_bad_notebooks_are_refused_with_the_reason(svc, tmp_path, content, message):
    path = tmp_path / "bad.ipynb"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BadInput, match=message) as info:
        svc.ship(path)
    assert "bad.ipynb" in info.value.message
    assert svc.jobs() == []


def test_nbformat3_notebook_is_converted_and_runs(svc, tmp_path):
    v3 = {
        "nbformat": 3, "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [{"cells": [
            {"cell_type": "code", "input": "print('from v3')", "language": "python",
             "outputs": [], "metadata": {}},
        ], "metadata": {}}],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    result = svc.ship(path, run=True)
    info = svc.wait(result.run.id, timeout=120)
    assert info.status == "succeeded", info.error
    log, _ = svc.read_log(info.id)
    assert b"from v3" in log


def test_job_names_are_checked(svc, nb):
    path = nb("ok.ipynb", "1")
    for bad in ("Upper", "-lead", "has space", "a" * 64, "../x", "a;rm"):
        with pytest.raises(BadInput, match="not allowed"):
            svc.ship(path, name=bad)
    assert svc.ship(path, name="a" * 63).job.name == "a" * 63


def test_metadata_config_is_validated(svc, nb):
    path = nb("m.ipynb", "1", metadata={"ml_ship": {"timeout": -5}})
    with pytest.raises(BadInput, match=r"metadata.ml_ship.timeout"):
        svc.ship(path)


@pytest.mark.parametrize("name", ["BAD-NAME", "$(rm -rf ~)", "A B", "1ST", ""])
def test_secret_names_must_be_environment_variable_names(svc, nb, name):
    path = nb("s.ipynb", "1", metadata={"ml_ship": {"secrets": ["OK_NAME", name]}})
    with pytest.raises(BadInput, match=r"metadata.ml_ship.secrets.1"):
        svc.ship(path)


def test_oversized_notebook_is_refused(svc, nb, settings):
    settings.max_notebook_bytes = 1000
    path = nb("big.ipynb", "x = '" + "y" * 2000 + "'")
    with pytest.raises(TooLarge, match="over the limit"):
        svc.ship(path)


def test_unknown_job_and_version(svc, nb):
    with pytest.raises(NotFound, match="no job named 'nope'"):
        svc.run("nope")
    svc.ship(nb("k.ipynb", "1"))
    with pytest.raises(NotFound, match="has no version 9"):
        svc.run("k", 9)


def test_wrong_and_unknown_parameters_are_refused_before_running(svc, nb):
    svc.ship(nb("p.ipynb", "print(n)", params="n = 3\nitems = [1]"))
    with pytest.raises(BadInput, match="parameter 'n' must be int"):
        svc.run("p", parameters={"n": "three"})
    with pytest.raises(BadInput, match="parameter 'items' must be list"):
        svc.run("p", parameters={"items": {"a": 1}})
    with pytest.raises(BadInput, match=r"unknown parameter 'm' \(parameters: items, n\)"):
        svc.run("p", parameters={"m": 1})
    with pytest.raises(BadInput, match="must be int"):
        svc.run("p", parameters={"n": True})
    runs, _ = svc.runs(job="p")
    assert runs == []


def test_parameter_payload_limit(svc, nb, settings):
    settings.max_request_bytes = 1000
    svc.ship(nb("big.ipynb", "print(s)", params="s = ''"))
    with pytest.raises(TooLarge):
        svc.run("big", parameters={"s": "x" * 5000})


SHIP_SCRIPT = """
import sys
from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
svc = ShipService(MlShip(home=sys.argv[1], freeze_environment=False))
r = svc.ship(sys.argv[2], name="race")
print(r.version.number, r.created)
"""


@pytest.mark.parametrize("same_content", [True, False])
def test_concurrent_ships_of_one_job(home, tmp_path, same_content):
    from tests.python.conftest import make_notebook

    paths = [make_notebook(tmp_path / f"n{i}.ipynb", f"print({0 if same_content else i})")
             for i in range(4)]
    procs = [subprocess.Popen([sys.executable, "-c", SHIP_SCRIPT, str(home), str(p)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in paths]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    from jupyter_ml_ship.config import MlShip
    from jupyter_ml_ship.core import ShipService

    svc = ShipService(MlShip(home=str(home)))
    numbers = sorted(v.number for v in svc.versions("race"))
    assert numbers == ([1] if same_content else [1, 2, 3, 4])
    assert sum(o.split()[1] == "True" for o, _ in outs) == len(numbers)


def test_requirements_beside_the_notebook_become_the_lock(svc, nb, tmp_path):
    path = nb("req.ipynb", "1")
    (path.parent / "requirements.txt").write_text("# pinned\nrequests==2.31.0\n\n")
    v = svc.ship(path).version
    assert v.environment == "requests==2.31.0\n"


def test_frozen_environment_when_no_requirements(settings, nb):
    from jupyter_ml_ship.core import ShipService

    settings.freeze_environment = True
    svc = ShipService(settings)
    v = svc.ship(nb("f.ipynb", "1")).version
    assert "papermill==" in v.environment
    svc.close()
