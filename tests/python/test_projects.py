"""Projects: a version holds its notebook's folder; a run works in a private copy of it and keeps
what it writes. Real folders, real runs on the local backend (docker: test_docker_projects.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_ml_ship.errors import BadInput, NotFound, TooLarge
from jupyter_ml_ship.store.blobs import BlobStore

from .conftest import make_notebook

SECRET = "s3cr3t-value-never-shipped"


def log_of(svc, run_id: str) -> str:
    return svc.read_log(run_id)[0].decode()


def make_project(top: Path) -> Path:
    """A real project: a module, a package, a data file read by a relative path, a secret."""
    (top / "pkg").mkdir(parents=True)
    (top / "data").mkdir()
    (top / "helper.py").write_text('def greet(n):\n    return f"hello {n} from helper v1"\n')
    (top / "pkg" / "__init__.py").write_text("")
    (top / "pkg" / "features.py").write_text("def double(x):\n    return 2 * x\n")
    (top / "data" / "train.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    (top / ".env").write_text(f"API_KEY={SECRET}\n")
    (top / "scratch").mkdir()
    (top / "scratch" / "notes.txt").write_text("left out by .shipignore\n")
    (top / ".shipignore").write_text("scratch/\n*.tmp\n")
    (top / "big.tmp").write_text("x" * 100)
    return make_notebook(
        top / "train.ipynb",
        "import csv, helper\nfrom pkg.features import double\n"
        "rows = list(csv.DictReader(open('data/train.csv')))\n"
        "print(helper.greet(who), 'rows', len(rows), 'double', double(len(rows)))\n"
        "open('summary.csv', 'w').write('rows\\n%d\\n' % len(rows))\n"
        "open('data/train.csv', 'w').write('overwritten by the run')",
        params="who = 'world'",
    )


def test_a_notebook_importing_its_module_and_reading_its_data_runs(svc, tmp_path):
    nb = make_project(tmp_path / "proj")
    shipped = svc.ship(nb)
    project = shipped.version.project
    assert project is not None and project.notebook == "train.ipynb"
    files = {f.path for f in svc.version_files("train").files}
    assert files == {"helper.py", "pkg/__init__.py", "pkg/features.py", "data/train.csv"}
    run = svc.wait(svc.run("train", parameters={"who": "Ada"}).id, 120)
    assert run.status == "succeeded", (run.error, log_of(svc, run.id))
    assert "hello Ada from helper v1 rows 3 double 6" in log_of(svc, run.id)
    # what the run wrote is kept: the new file and the data file it rewrote
    listing = svc.run_files(run.id)
    assert {f.path: f.size for f in listing.files} == {
        "summary.csv": len("rows\n3\n"), "data/train.csv": len("overwritten by the run")}
    path, kind = svc.run_file(run.id, "summary.csv")
    assert path.read_text() == "rows\n3\n" and kind.startswith("text/csv")
    # the stored version is intact: the next run reads the shipped data again
    again = svc.wait(svc.run("train").id, 120)
    assert "hello world from helper v1 rows 3" in log_of(svc, again.id)
    blobs = BlobStore(svc.home / "blobs")
    stored = {f.path: f.sha256 for f in svc.version_files("train").files}
    assert blobs.path(stored["data/train.csv"]).read_text() == "a,b\n1,2\n3,4\n5,6\n"
    # of the run's copy only what it wrote is left
    left = Path(svc.home) / "runs" / run.id / "project"
    assert {p.relative_to(left).as_posix() for p in left.rglob("*") if p.is_file()} == {
        "summary.csv", "data/train.csv"}


def test_hidden_files_shipignore_and_the_secret_stay_out(svc, tmp_path):
    nb = make_project(tmp_path / "proj")
    preview = svc.project_preview(nb)
    left_out = {e.path: e.reason for e in preview.excluded}
    assert left_out[".env"] == "hidden" and left_out[".shipignore"] == "hidden"
    assert left_out["scratch/"] == ".shipignore" and left_out["big.tmp"] == ".shipignore"
    assert preview.files == 4 and preview.error is None
    svc.ship(nb)
    svc.wait(svc.run("train").id, 120)
    hits = subprocess.run(["grep", "-rl", SECRET, str(svc.home)], capture_output=True, text=True)
    assert hits.stdout == "", f"the secret is in the home: {hits.stdout}"


def test_editing_the_helper_makes_v2_and_rolling_back_restores_the_old_helper(svc, tmp_path):
    nb = make_project(tmp_path / "proj")
    v1 = svc.ship(nb).version
    assert svc.ship(nb).created is False  # unchanged folder: the same version
    (tmp_path / "proj" / "helper.py").write_text(
        'def greet(n):\n    return f"HELLO {n} FROM HELPER V2"\n')
    v2 = svc.ship(nb).version
    assert (v1.number, v2.number) == (1, 2) and v1.digest != v2.digest
    diff = svc.diff_versions("train", 1, 2)
    assert [c.path for c in diff.changed] == ["helper.py"] and not diff.added and not diff.removed
    assert diff.notebook_text == ""  # the notebook itself did not change
    r2 = svc.wait(svc.run("train").id, 120)
    assert "HELLO world FROM HELPER V2" in log_of(svc, r2.id)
    svc.rollback("train", 1)
    r1 = svc.wait(svc.run("train").id, 120)
    assert r1.version == 1 and "hello world from helper v1" in log_of(svc, r1.id)


def test_shipping_after_a_roll_back_makes_the_matching_version_current(svc, tmp_path):
    nb = make_project(tmp_path / "proj")
    svc.ship(nb)
    (tmp_path / "proj" / "helper.py").write_text("def greet(n):\n    return 'two'\n")
    svc.ship(nb)
    svc.rollback("train", 1)
    again = svc.ship(nb, run=True)  # the folder is v2's content
    assert (again.created, again.made_current, again.version.number) == (False, True, 2)
    assert svc.job("train").current_version == 2 and again.run and again.run.version == 2


def test_an_unchanged_large_file_is_stored_once_and_not_read_again(svc, tmp_path, monkeypatch):
    nb = make_project(tmp_path / "proj")
    (tmp_path / "proj" / "data" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    svc.ship(nb)
    blobs = sorted(p for p in (svc.home / "blobs").rglob("*") if p.is_file())
    reads: list[str] = []
    original = BlobStore.add_file

    def counting(self, source):
        reads.append(Path(source).name)
        return original(self, source)

    monkeypatch.setattr(BlobStore, "add_file", counting)
    for i in range(3):  # three new versions, each a one-file edit
        (tmp_path / "proj" / "helper.py").write_text(f"def greet(n):\n    return {i}\n")
        assert svc.ship(nb).version.number == i + 2
    assert reads == ["helper.py"] * 3  # big.bin (and the rest) were not read again
    now = sorted(p for p in (svc.home / "blobs").rglob("*") if p.is_file())
    assert len(now) == len(blobs) + 3  # one blob per edit, big.bin once


def test_a_notebook_in_a_subfolder_with_the_project_root_above_it(svc, tmp_path):
    top = tmp_path / "repo"
    (top / "src").mkdir(parents=True)
    (top / "src" / "__init__.py").write_text("")
    (top / "src" / "features.py").write_text("NAME = 'features of src'\n")
    (top / "data").mkdir()
    (top / "data" / "x.txt").write_text("beside notebooks/\n")
    nb = make_notebook(top / "notebooks" / "train.ipynb",
                       "from src.features import NAME\nprint(NAME, open('../data/x.txt').read())",
                       metadata={"ml_ship": {"root": ".."}})
    v = svc.ship(nb).version
    assert v.project and v.project.notebook == "notebooks/train.ipynb"
    run = svc.wait(svc.run("train").id, 120)
    assert run.status == "succeeded", log_of(svc, run.id)
    assert "features of src beside notebooks/" in log_of(svc, run.id)


def test_bad_projects_are_refused_naming_the_file_and_nothing_is_stored(svc, tmp_path, settings):
    top = tmp_path / "proj"
    nb = make_project(top)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not ours")
    (top / "link.txt").symlink_to(outside)
    with pytest.raises(BadInput, match=r"link\.txt: a symbolic link .*outside the project"):
        svc.ship(nb)
    assert "link.txt: a symbolic link" in (svc.project_preview(nb).error or "")
    (top / "link.txt").unlink()
    (top / "inside.txt").symlink_to(top / "helper.py")  # a link inside the folder is fine
    svc.project_preview(nb)
    with pytest.raises(BadInput, match="outside the server root"):
        svc.ship(nb, config={"root": ".."}, confine=top)
    with pytest.raises(BadInput, match="metadata.ml_ship.root"):
        svc.ship(nb, config={"root": "/etc"})
    settings.max_project_files = 3
    with pytest.raises(TooLarge, match=r"5 files \(limit 3\); largest: helper\.py \(53 B\), inside\.txt"):
        svc.ship(nb)
    assert svc.project_preview(nb).error and "limit 3" in svc.project_preview(nb).error
    settings.max_project_files, settings.max_project_bytes = 5000, 50
    with pytest.raises(TooLarge, match=r"\.shipignore"):
        svc.ship(nb)
    assert svc.jobs() == [] and not (svc.home / "blobs").exists()


def test_artifacts_over_the_cap_are_named_in_the_log_and_paths_are_confined(svc, tmp_path,
                                                                          settings):
    settings.max_artifact_bytes = 1500
    nb = make_notebook(tmp_path / "w" / "writer.ipynb",
                       "open('small.txt', 'w').write('s' * 1000)\n"
                       "import os\nos.makedirs('out', exist_ok=True)\n"
                       "open('out/large.bin', 'wb').write(b'l' * 4000)")
    svc.ship(nb)
    run = svc.wait(svc.run("writer").id, 120)
    assert run.status == "succeeded"
    listing = svc.run_files(run.id)
    assert [f.path for f in listing.files] == ["small.txt"]
    assert [(f.path, f.size) for f in listing.not_kept] == [("out/large.bin", 4000)]
    assert "out/large.bin (4000 bytes)" in log_of(svc, run.id)
    for bad in ("../run.json", "/etc/passwd", "out/../../log.txt", ""):
        with pytest.raises(BadInput):
            svc.run_file(run.id, bad)
    with pytest.raises(NotFound, match="has no file 'nope.txt'.*small.txt"):
        svc.run_file(run.id, "nope.txt")


def test_cli_files_and_diff(svc, tmp_path, cli_env, home):
    nb = make_project(tmp_path / "proj")

    def cli(*args: str, ok: int = 0) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", *args], env=cli_env,
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == ok, (args, r.stdout, r.stderr)
        return r

    cli("ship", str(nb), "--wait", "-p", "who", "Lin")
    run_id = json.loads(cli("runs", "--json").stdout)["runs"][0]["id"]
    listing = json.loads(cli("files", run_id, "--json").stdout)
    assert sorted(f["path"] for f in listing["files"]) == ["data/train.csv", "summary.csv"]
    assert "summary.csv" in cli("files", run_id).stdout
    cli("files", run_id, "summary.csv", "-o", str(tmp_path / "s.csv"))
    assert (tmp_path / "s.csv").read_text() == "rows\n3\n"
    cli("files", run_id, "-o", str(tmp_path / "all"))
    assert (tmp_path / "all" / "data" / "train.csv").read_text() == "overwritten by the run"
    bad = cli("files", run_id, "../run.json", "-o", str(tmp_path / "x"), ok=2)
    assert "'..'" in bad.stderr and not (tmp_path / "x").exists()
    (tmp_path / "proj" / "helper.py").write_text("def greet(n):\n    return 'v2'\n")
    (tmp_path / "proj" / "new.py").write_text("X = 1\n")
    make_notebook(nb, "import helper\nprint(helper.greet(who))", params="who = 'world'")
    cli("ship", str(nb))
    out = cli("diff", "train", "1", "2").stdout
    assert "print(helper.greet(who))" in out  # the notebook's source diff (nbdime)
    assert "changed  helper.py" in out and "added    new.py" in out
    assert json.loads(cli("diff", "train", "1", "--json").stdout)["b"] == 2
    assert "no job named 'nope'" in cli("diff", "nope", "1", "2", ok=2).stderr


def test_blobs_at_the_size_where_storing_switches_to_streaming(tmp_path):
    import hashlib

    from jupyter_ml_ship.store.blobs import CHUNK

    store = BlobStore(tmp_path / "blobs")
    for size in (0, 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7):
        data = os.urandom(size)
        (tmp_path / "f").write_bytes(data)
        sha, stored = store.add_file(tmp_path / "f")
        assert (sha, stored) == (hashlib.sha256(data).hexdigest(), size)
        assert store.path(sha).read_bytes() == data
        assert store.add_file(tmp_path / "f") == (sha, size)  # stored once
    left = [p.name for p in (tmp_path / "blobs").rglob(".in-*")]
    assert left == []  # no temp file left behind
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "blobs").rglob("*")
            if p.is_file()} == {0o444}  # read-only, whichever way it was written
