"""Git provenance of a version (a real ``git init`` in the test's folder): the commit, branch,
dirty flag and remote (credentials stripped) of a clean and a dirty checkout, in ``ml-ship
versions`` with a link to the commit; no repository, nothing recorded; ``ml-ship ship NB
--git-ref REF`` ships what was committed, not the edited file; a bad ref is exit 2 naming it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.cli import main
from jupyter_ml_ship.core.provenance import commit_url, strip_credentials

from .conftest import make_notebook, require

require("git", shutil.which("git") is not None, "git is not installed")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit on main: notebooks/train.ipynb (x = 1) and src/lib.py,
    its origin a GitHub URL with a token in it."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ada@example.com")
    git(root, "config", "user.name", "Ada")
    git(root, "remote", "add", "origin", "https://ada:ghp_s3cret@github.com/acme/churn.git")
    make_notebook(root / "train.ipynb", "print('x is', x)", params="x = 1")
    (root / "lib.py").write_text("VALUE = 1\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_a_clean_and_a_dirty_checkout_record_their_commit_and_dirty_flag(svc, repo, home,
                                                                         capsys) -> None:
    head = git(repo, "rev-parse", "HEAD")
    clean = svc.ship(repo / "train.ipynb").version
    assert clean.git is not None
    assert (clean.git.commit, clean.git.branch, clean.git.dirty) == (head, "main", False)
    assert clean.git.remote == "https://github.com/acme/churn.git"  # the token is gone
    assert clean.git.url == f"https://github.com/acme/churn/commit/{head}"

    (repo / "lib.py").write_text("VALUE = 2\n")  # an uncommitted change in the project folder
    dirty = svc.ship(repo / "train.ipynb").version
    assert dirty.number == 2 and dirty.git is not None
    assert (dirty.git.commit, dirty.git.dirty) == (head, True)

    assert main(["--home", str(home), "versions", "train"]) == 0
    out, err = capsys.readouterr()
    assert f"{head[:10]} (main) dirty" in out.splitlines()[1]  # v2, newest first
    assert f"{head[:10]} (main)" in out.splitlines()[2] and "dirty" not in out.splitlines()[2]
    assert f"v1: https://github.com/acme/churn/commit/{head}" in err
    assert "s3cret" not in out + err
    assert main(["--home", str(home), "versions", "train", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["versions"]
    assert [(v["git"]["commit"], v["git"]["dirty"]) for v in listed] == [(head, True),
                                                                         (head, False)]


def test_no_repository_records_nothing_and_is_no_error(svc, nb) -> None:
    v = svc.ship(nb("plain.ipynb", "print(1)")).version
    assert v.git is None


def test_git_ref_ships_the_committed_content_not_the_edited_file(svc, repo, home,
                                                                 capsys) -> None:
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1")
    make_notebook(repo / "train.ipynb", "print('x is', x)", params="x = 2")
    git(repo, "commit", "-q", "-am", "x = 2")
    make_notebook(repo / "train.ipynb", "print('x is', x)", params="x = 3")  # not committed
    (repo / "lib.py").write_text("VALUE = 3\n")

    assert main(["--home", str(home), "ship", str(repo / "train.ipynb"), "--git-ref", "v1",
                 "--json"]) == 0
    shipped = json.loads(capsys.readouterr().out)["version"]
    assert shipped["git"] == {"commit": first, "branch": None, "dirty": False,
                              "remote": "https://github.com/acme/churn.git",
                              "url": f"https://github.com/acme/churn/commit/{first}"}
    assert shipped["source_path"] == str((repo / "train.ipynb").resolve())
    assert shipped["project"]["root"] == str(repo.resolve())  # not the temporary folder
    snapshot = Path(svc.version_notebook("train", shipped["number"])).read_text()
    assert "x = 1" in snapshot and "x = 3" not in snapshot
    assert "lib.py" in [f.path for f in svc.version_files("train", shipped["number"]).files]
    run = svc.wait(svc.run("train", shipped["number"]).id, timeout=120)
    assert run.status == "succeeded"
    assert "x is 1" in Path(svc.output_path(run.id)).read_text()

    assert main(["--home", str(home), "ship", str(repo / "train.ipynb"), "--git-ref", "main",
                 "--json"]) == 0
    on_main = json.loads(capsys.readouterr().out)["version"]
    assert on_main["git"]["branch"] == "main" and on_main["git"]["commit"] == git(
        repo, "rev-parse", "HEAD")
    assert "x = 2" in Path(svc.version_notebook("train", on_main["number"])).read_text()
    assert (repo / "lib.py").read_text() == "VALUE = 3\n"  # the working tree is as it was
    assert git(repo, "worktree", "list").count("\n") == 0


def test_a_bad_git_ref_is_exit_2_naming_it(repo, home, capsys) -> None:
    assert main(["--home", str(home), "ship", str(repo / "train.ipynb"), "--git-ref",
                 "no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "--git-ref no-such-branch: no commit, branch or tag named 'no-such-branch'" in err


@pytest.mark.parametrize("remote, url", [
    ("git@github.com:acme/churn.git", "https://github.com/acme/churn/commit/abc"),
    ("https://github.com/acme/churn", "https://github.com/acme/churn/commit/abc"),
    ("ssh://git@gitlab.example.com:2222/data/team/churn.git",
     "https://gitlab.example.com/data/team/churn/-/commit/abc"),
    ("https://gitlab.com/data/churn.git", "https://gitlab.com/data/churn/-/commit/abc"),
    ("https://bitbucket.org/acme/churn.git", None),
    ("/srv/git/churn.git", None),
])
def test_commit_links_on_github_and_gitlab(remote: str, url: Any) -> None:
    assert commit_url(remote, "abc") == url


def test_credentials_are_stripped_from_remotes() -> None:
    assert strip_credentials("https://oauth2:glpat-x@gitlab.com/d/c.git") == \
        "https://gitlab.com/d/c.git"
    assert strip_credentials("ssh://git:pw@host:22/d/c.git") == "ssh://host:22/d/c.git"
    assert strip_credentials("ssh://git@host/d/c.git") == "ssh://git@host/d/c.git"
    assert strip_credentials("git@github.com:acme/churn.git") == "git@github.com:acme/churn.git"
