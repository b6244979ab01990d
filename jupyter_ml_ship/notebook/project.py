"""A notebook's project folder: which files a version takes along, found without reading them.

The folder is the notebook's own, or ``metadata.ml_ship.root`` (a path relative to the notebook's
folder, e.g. ``".."``). Left out: hidden files and folders, ``__pycache__``, the ml-ship home,
what ``.shipignore`` (gitignore syntax, read with ``pathspec``) or ``metadata.ml_ship.exclude``
names; ``metadata.ml_ship.include`` narrows the rest to what it lists. A symbolic link that leaves
the folder is refused, never followed. The notebook itself is not a project file: its snapshot
(without outputs) is the version's notebook; other notebooks (jobs of their own) and pipeline files
stay out unless ``include`` names them (notebooks then without their outputs).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from ..errors import BadInput, TooLarge
from ..untrusted import inside, load_json

IGNORE_FILE = ".shipignore"
#: how many of the largest files a preview (or a refusal) names
LARGEST = 8


@dataclass
class Entry:
    """One project file as found on disk."""

    path: str  # relative, '/'-separated
    source: Path  # the file to read (a link inside the folder: its target)
    size: int
    mtime_ns: int
    ino: int = 0
    executable: bool = False

    @property
    def stamp(self) -> list[int]:
        """What tells an unchanged file apart without reading it."""
        return [self.size, self.mtime_ns, self.ino]


@dataclass
class ProjectScan:
    root: Path
    notebook: str  # the notebook's path inside root
    files: list[Entry] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    def largest(self, n: int = LARGEST) -> list[Entry]:
        return sorted(self.files, key=lambda f: (-f.size, f.path))[:n]

    @property
    def notebook_dir(self) -> str:
        parent = Path(self.notebook).parent.as_posix()
        return "" if parent == "." else parent


def _spec(lines: Iterable[str]) -> pathspec.PathSpec | None:
    lines = [ln for ln in lines if ln.strip()]
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _patterns(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise BadInput(f"{where}: must be a glob or a list of globs")


def project_root(notebook: Path, root: str | None, confine: Path | None = None) -> Path:
    """The project folder of ``notebook`` (resolved); ``root`` relative to the notebook's
    folder; it must hold the notebook and stay inside ``confine`` (the server root), by the one
    confinement check of user-named paths (``untrusted.inside``)."""
    folder = notebook.resolve().parent
    key = "metadata.ml_ship.root"
    if confine is not None:  # first: a root out of the server root is never looked at
        inside(root or ".", base=folder, folder=confine, key=key, folder_name="the server root")
    if root in (None, "", "."):
        return folder
    assert root is not None
    if not isinstance(root, str) or Path(root).is_absolute():
        raise BadInput(f"{key} {root!r}: must be relative to the notebook's folder (e.g. '..')")
    path = (folder / root).resolve()
    if not path.is_dir():
        raise BadInput(f"{key} {root!r}: {path} is not a folder")
    if folder != path and path not in folder.parents:
        raise BadInput(f"{key} {root!r}: must be the notebook's folder or one of its parents")
    return path


def scan_project(
    notebook: Path,
    *,
    root: str | None = None,
    include: object = None,
    exclude: object = None,
    confine: Path | None = None,
    skip: Iterable[Path] = (),
) -> ProjectScan:
    """Walk the project folder (stat only). ``skip``: folders never shipped (the home)."""
    top = project_root(notebook, root, confine)
    nb_real = notebook.resolve()
    scan = ProjectScan(root=top, notebook=nb_real.relative_to(top).as_posix())
    ignore_lines: list[str] = []
    try:
        ignore_lines = (top / IGNORE_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{top / IGNORE_FILE}: cannot be read: {exc}") from None
    ignored = _spec(ignore_lines)
    excluded = _spec(_patterns(exclude, "metadata.ml_ship.exclude"))
    included = _spec(_patterns(include, "metadata.ml_ship.include"))
    skipped = {p.resolve() for p in skip}

    def why_left_out(rel: str, name: str, is_dir: bool) -> str | None:
        if name.startswith("."):
            return "hidden"
        if is_dir and name == "__pycache__":
            return "__pycache__"
        probe = rel + "/" if is_dir else rel
        if ignored is not None and ignored.match_file(probe):
            return IGNORE_FILE
        if excluded is not None and excluded.match_file(probe):
            return "metadata.ml_ship.exclude"
        if not is_dir and included is not None and not included.match_file(rel):
            return "not in metadata.ml_ship.include"
        if not is_dir and name.endswith(".ipynb") and included is None:
            return "another notebook (a job of its own; metadata.ml_ship.include takes it)"
        if not is_dir and name.endswith((".pipeline.yaml", ".pipeline.yml")) \
                and included is None:
            return "a pipeline file (shipped as a pipeline of its own)"
        return None

    stack = [(top, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise BadInput(f"{folder}: cannot be listed: {exc}") from None
        for entry in entries:
            rel = prefix + entry.name
            path = Path(entry.path)
            link = entry.is_symlink()
            target = path.resolve() if link else path
            if not link and target == nb_real:
                continue  # the notebook: its snapshot is the version's notebook
            is_dir = target.is_dir()
            reason = why_left_out(rel, entry.name, is_dir)
            if reason is None and is_dir and target in skipped:
                reason = "the ml-ship home"
            if reason is not None:
                if not (is_dir and reason == "hidden" and entry.name == ".ipynb_checkpoints"):
                    scan.excluded.append((rel + ("/" if is_dir else ""), reason))
                continue
            if link:
                if target != top and top not in target.parents:
                    raise BadInput(
                        f"{rel}: a symbolic link to {os.readlink(path)}, outside the project "
                        f"folder {top}; links that leave the project are not followed: remove "
                        f"it, or add it to {IGNORE_FILE}")
                if is_dir:
                    scan.excluded.append((rel + "/", "a link to a folder inside the project"))
                    continue
            if is_dir:
                stack.append((path, rel + "/"))
                continue
            try:
                st = target.stat()
            except OSError as exc:
                raise BadInput(f"{rel}: cannot be read: {exc}") from None
            if not stat.S_ISREG(st.st_mode):
                scan.excluded.append((rel, "not a regular file"))
                continue
            scan.files.append(Entry(rel, target, st.st_size, st.st_mtime_ns, st.st_ino,
                                    bool(st.st_mode & stat.S_IXUSR)))
    scan.files.sort(key=lambda f: f.path)
    return scan


def check_limits(scan: ProjectScan, max_files: int, max_bytes: int) -> None:
    """Refuse a project over the limits, naming its largest files and how to leave them out."""
    count, total = len(scan.files), scan.bytes
    if count <= max_files and total <= max_bytes:
        return
    what = (f"{count} files (limit {max_files})" if count > max_files
            else f"{_human(total)} (limit {_human(max_bytes)})")
    biggest = ", ".join(f"{f.path} ({_human(f.size)})" for f in scan.largest(5))
    raise TooLarge(
        f"the project folder {scan.root} has {what}; largest: {biggest}. Leave files out with "
        f"a {IGNORE_FILE} in that folder (gitignore syntax) or metadata.ml_ship.exclude, or "
        "raise MlShip.max_project_files / max_project_bytes (for one ship: ml-ship ship "
        "--max-files N / --max-bytes SIZE)")


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def shipped_notebook_bytes(path: Path) -> bytes | None:
    """Another notebook of the project as a version keeps it: without outputs and execution
    counts (running it in the lab does not make a new version of every job beside it). None
    when it is not a readable notebook: it is shipped as it is."""
    import json

    try:
        nb = load_json(path.read_bytes())  # nested too deep: a BadInput
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError, BadInput):
        return None
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return (json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode()
