"""Project layouts (#24 item 1): a notebook in ``notebooks/`` importing ``src/`` and reading
``../data/``. The project folder is proposed with its reasons; a run shipped without it fails with
a hint saying what is outside and how to ship it; tracebacks name the user's files. Real
folders, real runs on the local backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jupyter_ml_ship.notebook.layout import propose_root

from .conftest import make_notebook

FEATURES = '''def ratio(rows, strict=False):
    """The share of paid loans."""
    if strict:
        raise ValueError("strict ratio needs a 'status' column on every row")
    return sum(r["status"] == "paid" for r in rows) / len(rows)
'''
LOANS = "id,status\n1,paid\n2,late\n3,paid\n4,paid\n"


def make_layout(top: Path, *, reach: str = "sys.path") -> Path:
    """``top/notebooks/train.ipynb`` importing ``src/features.py`` and reading
    ``../data/loans.csv``; ``reach``: "sys.path" (``sys.path.insert(0, "..")``), "import"
    (a plain ``from src.features import``), "data" (only the data file)."""
    (top / "src").mkdir(parents=True, exist_ok=True)
    (top / "data").mkdir(exist_ok=True)
    (top / "pyproject.toml").write_text('[project]\nname = "loans"\nversion = "0.1"\n')
    (top / "src" / "__init__.py").write_text("")
    (top / "src" / "features.py").write_text(FEATURES)
    (top / "data" / "loans.csv").write_text(LOANS)
    head = {"sys.path": 'import sys\nsys.path.insert(0, "..")\n', "import": "", "data": ""}[reach]
    code = (head + ("" if reach == "data" else "from src.features import ratio\n")
            + "import csv\nrows = list(csv.DictReader(open('../data/loans.csv')))\n"
            + ("print('loans', len(rows))" if reach == "data" else
               "print('loans', len(rows), 'paid share', ratio(rows, strict))"))
    return make_notebook(top / "notebooks" / "train.ipynb", code, params="strict = False")


def test_a_notebook_reaching_outside_its_folder_gets_the_project_folder_proposed(tmp_path):
    for reach in ("sys.path", "import", "data"):
        nb = make_layout(tmp_path / reach / "loans", reach=reach)
        proposal = propose_root(nb, json.loads(nb.read_text()), top=tmp_path)
        assert proposal is not None, reach
        assert proposal.root == ".." and proposal.folder == (tmp_path / reach / "loans")
        text = " ".join(proposal.reasons)
        assert "../data/loans.csv" in text and "pyproject.toml marks the project's top" in text
        if reach == "sys.path":
            assert 'it adds ".." to sys.path' in text
        if reach == "import":
            assert "it imports src, which is ../src" in text
        # already shipped from the project folder: nothing to propose
        assert propose_root(nb, json.loads(nb.read_text()), "..", top=tmp_path) is None
    # a notebook that keeps to its folder: nothing to propose, even in a project
    alone = make_notebook(tmp_path / "data" / "loans" / "notebooks" / "eda.ipynb",
                          "import csv, os\nprint(os.listdir('.'))")
    assert propose_root(alone, json.loads(alone.read_text()), top=tmp_path) is None


def test_the_preview_proposes_the_project_folder_and_previews_a_chosen_root(svc, tmp_path):
    nb = make_layout(tmp_path / "loans")
    preview = svc.project_preview(nb, confine=tmp_path)
    assert preview.root == "loans/notebooks" and preview.files == 0
    assert preview.proposed_root == ".." and preview.proposed_folder == "loans"
    assert any("sys.path" in r for r in preview.proposed_reasons)
    chosen = svc.project_preview(nb, confine=tmp_path, root="..")
    assert chosen.root == "loans" and chosen.proposed_root is None
    assert chosen.files == 4  # pyproject.toml, src/__init__.py, src/features.py, data/loans.csv


def test_a_run_shipped_without_its_project_folder_says_what_is_outside_and_how_to_fix_it(
        svc, tmp_path, cli_env):
    nb = make_layout(tmp_path / "loans")
    svc.ship(nb, source="loans/notebooks/train.ipynb", confine=tmp_path)
    run = svc.wait(svc.run("train").id, 120)
    assert run.status == "failed" and run.error is not None
    assert run.error.ename == "ModuleNotFoundError"
    hint = run.error.hint or ""
    assert "module 'src' is loans/src, outside the shipped folder loans/notebooks" in hint, hint
    assert "Project folder" in hint and "metadata.ml_ship.root to '..'" in hint
    # the command line shows it too
    out = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "status", run.id],
                         env=cli_env, capture_output=True, text=True, timeout=60)
    assert "outside the shipped folder loans/notebooks" in out.stdout, out.stdout + out.stderr

    data_only = make_layout(tmp_path / "other", reach="data")
    svc.ship(data_only, name="counts", source="other/notebooks/train.ipynb", confine=tmp_path)
    run = svc.wait(svc.run("counts").id, 120)
    assert run.error is not None and run.error.ename == "FileNotFoundError"
    assert "../data/loans.csv is other/data/loans.csv, outside the shipped folder " \
           "other/notebooks" in (run.error.hint or ""), run.error


def test_shipped_with_its_project_folder_it_runs_and_tracebacks_name_the_users_files(
        svc, tmp_path):
    nb = make_layout(tmp_path / "loans")
    svc.ship(nb, config={"root": ".."}, confine=tmp_path)
    ok = svc.wait(svc.run("train").id, 120)
    assert ok.status == "succeeded", ok.error
    assert "loans 4 paid share 0.75" in svc.read_log(ok.id)[0].decode()
    bad = svc.wait(svc.run("train", parameters={"strict": True}).id, 120)
    assert bad.error is not None and bad.error.ename == "ValueError"
    assert bad.error.hint is None
    traceback = bad.error.traceback or ""
    assert "src/features.py" in traceback
    assert bad.id not in traceback and "/runs/" not in traceback, traceback
