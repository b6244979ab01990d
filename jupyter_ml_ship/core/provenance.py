"""Git provenance of a version: the commit, branch, dirty flag and remote of the folder it was
shipped from, and shipping a project as committed at a ref (``ml-ship ship NB --git-ref REF``).

Everything is asked of the ``git`` command (argument lists, no shell, no prompt, no optional
locks), never read from ``.git`` by hand. A folder outside any repository, a repository with no
commit yet or no ``git`` on the PATH records nothing and is no error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import BadInput
from .environments import check_environment, check_schedule_environment

#: seconds one git command may take (a huge repository's ``status``)
GIT_TIMEOUT = 30.0
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>[^/:]+):(?P<path>(?!/).+)$")


def _git(folder: Path, *args: str, check: bool = True) -> str | None:
    """stdout of ``git args`` run in ``folder`` (None: git missing, or it failed)."""
    exe = shutil.which("git")
    if exe is None:
        return None
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run([exe, *args], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if check and done.returncode != 0:
        return None
    return done.stdout


def strip_credentials(url: str) -> str:
    """A remote URL with no password or token in it: ``https://user:tok@host/x`` →
    ``https://host/x``; an SSH login name (``git@host:org/repo``) is kept, it is no secret."""
    url = url.strip()
    if "://" not in url:
        return url  # scp-like git@host:path or a local path: no password can be in it
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.scheme in ("ssh", "git+ssh") and parts.username and parts.password is None:
        host = f"{parts.username}@{host}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def commit_url(remote: str | None, commit: str | None) -> str | None:
    """The page of ``commit`` on a GitHub or GitLab remote (https, ssh:// and git@ forms)."""
    if not remote or not commit:
        return None
    match = _SCP_LIKE.match(remote) if "://" not in remote else None
    if match:
        host, path = match.group("host"), match.group("path")
    else:
        parts = urlsplit(remote)
        if parts.scheme not in ("http", "https", "ssh", "git", "git+ssh"):
            return None
        host, path = parts.hostname or "", parts.path
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    if not host or not path:
        return None
    if "github" in host:
        return f"https://{host}/{path}/commit/{commit}"
    if "gitlab" in host:
        return f"https://{host}/{path}/-/commit/{commit}"
    return None


def _remote(folder: Path) -> str | None:
    names = (_git(folder, "remote") or "").split()
    if not names:
        return None
    url = _git(folder, "remote", "get-url", "origin" if "origin" in names else names[0])
    return strip_credentials(url) if url and url.strip() else None


def git_provenance(folder: Path) -> dict[str, Any] | None:
    """{commit, branch, dirty, remote} of ``folder`` in its repository, or None when it is in
    none (or it has no commit). ``dirty``: a file of the folder differs from the commit (changed,
    staged, deleted or new and not ignored); ``branch``: None on a detached HEAD."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    commit = _git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if not commit or not commit.strip():
        return None
    branch = (_git(folder, "symbolic-ref", "--short", "--quiet", "HEAD") or "").strip()
    status = _git(folder, "status", "--porcelain=v1", "--untracked-files=normal", "--", ".")
    return {"commit": commit.strip(), "branch": branch or None,
            "dirty": bool(status and status.strip()), "remote": _remote(folder)}


@dataclass
class Checkout:
    """A project exported at a commit: where the notebook is in it, and its provenance."""

    notebook: Path
    git: dict[str, Any]
    #: the temporary folder holding the exported tree, and the repository it is of
    tree: Path
    repo: Path


@contextmanager
def checkout_at(notebook: Path, ref: str) -> Iterator[Checkout]:
    """The repository holding ``notebook``, as committed at ``ref``, in a temporary folder
    (``git archive``: the working tree and the repository are left as they are); removed after.
    A ref that names no commit, a notebook outside any repository or not in that commit:
    ``BadInput`` naming it."""
    notebook = Path(notebook).absolute()
    where = f"--git-ref {ref}"
    if not ref or ref.startswith("-") or "\0" in ref:
        raise BadInput(f"{where}: not a valid git ref")
    folder = notebook.parent
    if shutil.which("git") is None:
        raise BadInput(f"{where}: git is not installed (no git on the PATH)")
    top = _git(folder, "rev-parse", "--show-toplevel") if folder.is_dir() else None
    if not top or not top.strip():
        raise BadInput(f"{where}: {folder} is not inside a git repository")
    root = Path(top.strip())
    commit = (_git(root, "rev-parse", "--verify", "--quiet", "--end-of-options",
                   f"{ref}^{{commit}}") or "").strip()
    if not commit:
        raise BadInput(f"{where}: no commit, branch or tag named {ref!r} in the git "
                       f"repository {root}")
    try:
        inside = notebook.resolve().relative_to(root.resolve())
    except ValueError:
        raise BadInput(f"{where}: {notebook} is not inside the git repository {root}") from None
    full = (_git(root, "rev-parse", "--symbolic-full-name", ref) or "")  # ref: no "-" first
    full = full.strip()
    branch = (full.removeprefix("refs/heads/") if full.startswith("refs/heads/")
              else full.removeprefix("refs/remotes/") if full.startswith("refs/remotes/")
              else None)
    with tempfile.TemporaryDirectory(prefix="ml-ship-git-") as tmp:
        archive = Path(tmp) / "project.tar"
        exe = shutil.which("git") or "git"
        with archive.open("wb") as out:
            done = subprocess.run([exe, "archive", "--format=tar", commit], cwd=root,
                                  stdout=out, stderr=subprocess.PIPE, timeout=600,
                                  stdin=subprocess.DEVNULL,
                                  env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        if done.returncode != 0:
            raise BadInput(f"{where}: git archive failed: "
                           f"{done.stderr.decode(errors='replace').strip()[:500]}")
        tree = Path(tmp) / "tree"
        tree.mkdir()
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        archive.unlink()
        exported = tree / inside
        if not exported.is_file():
            raise BadInput(f"{where}: {inside.as_posix()} is not in commit {commit[:12]} "
                           f"of {root}")
        yield Checkout(exported, {"commit": commit, "branch": branch, "dirty": False,
                                  "remote": _remote(root)}, tree.resolve(), root.resolve())


def check_delivery_config(config: dict[str, Any], promote: Any, environments: list[str],
                          where: str) -> None:
    """The environments a notebook being shipped names (``schedule_environment``,
    ``promote.to``) are configured ones; ``BadInput`` naming the key otherwise."""
    check_schedule_environment(config, environments, where)
    if promote is not None and getattr(promote, "to", None):
        check_environment(environments, promote.to, f"{where}metadata.ml_ship.promote.to")
