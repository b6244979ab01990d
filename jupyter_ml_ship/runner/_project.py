"""The run's private copy of its project, and the files it creates or changes (its artifacts).

The copy is ``RUN_DIR/project``: laid out by the service (local backend), or copied by the runner
from ``$ML_SHIP_PROJECT_DIR`` (an image's ``/job/project``) at the start. The notebook runs in its
own folder there, so a path it records (``record("data_path", os.path.abspath(...))``) is a path
the next step can open. After the run the copy keeps only what the run created or changed (size
or mtime differ from before the run; hidden files and ``__pycache__`` aside), up to
``max_artifact_bytes``; ``RUN_DIR/artifacts.json`` lists them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import atomic_write_json

DEFAULT_MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024
FOLDER = "project"


def _walk(root: Path) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Regular files (path -> size, mtime) that can be artifacts, and everything else."""
    found: dict[str, tuple[int, int]] = {}
    other: list[str] = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            rel = prefix + e.name
            if e.name.startswith(".") or e.name == "__pycache__":
                other.append(rel)
            elif e.is_dir(follow_symlinks=False):
                stack.append((Path(e.path), rel + "/"))
            elif e.is_file(follow_symlinks=False):
                st = e.stat(follow_symlinks=False)
                found[rel] = (st.st_size, st.st_mtime_ns)
            else:
                other.append(rel)  # a link the run made: never served
    return found, other


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@dataclass
class Project:
    root: Path
    cwd: Path
    max_artifact_bytes: int
    before: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, run_dir: Path, spec: dict[str, Any]) -> Project | None:
        info = spec.get("project")
        in_image = os.environ.get("ML_SHIP_PROJECT_DIR")
        if info is None and not in_image:
            return None  # a version shipped before projects: the run directory, as it was
        info = info or {}
        root = run_dir / FOLDER
        if in_image and not root.exists():  # a container: its image holds the files
            shutil.copytree(in_image, root, symlinks=True)
        notebook_dir = info.get("notebook_dir", os.environ.get("ML_SHIP_NOTEBOOK_DIR", ""))
        cwd = root / notebook_dir if notebook_dir else root
        cwd.mkdir(parents=True, exist_ok=True)
        limit = int(info.get("max_artifact_bytes") or DEFAULT_MAX_ARTIFACT_BYTES)
        return cls(root.resolve(), cwd.resolve(), limit)

    def user_paths(self, text: str) -> str:
        """``text`` (a traceback) naming the project's files as the user knows them
        (``src/features.py``), not by the run's private copy; IPython writes a path under the
        home folder as ``~/…``."""
        prefixes = [str(self.root) + os.sep]
        home = os.path.expanduser("~")
        if home not in ("", "/") and prefixes[0].startswith(home + os.sep):
            prefixes.append("~" + prefixes[0][len(home):])
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return text

    def start(self) -> None:
        self.before = _walk(self.root)[0]

    def collect(self, run_dir: Path, say: Any) -> dict[str, Any]:
        """Keep what the run created or changed, drop the rest of the copy; the listing."""
        now, other = _walk(self.root)
        kept: list[dict[str, Any]] = []
        not_kept: list[dict[str, Any]] = []
        used = 0
        for rel in sorted(now):
            size = now[rel][0]
            if self.before.get(rel) == now[rel]:
                _remove(self.root / rel)  # as shipped: the version has it
            elif used + size > self.max_artifact_bytes:
                not_kept.append({"path": rel, "size": size})
                _remove(self.root / rel)
            else:
                used += size
                kept.append({"path": rel, "size": size})
        for rel in other:
            _remove(self.root / rel)
        for folder, _dirs, _files in sorted(os.walk(self.root), reverse=True):
            if Path(folder) != self.root:
                try:
                    os.rmdir(folder)  # folders left empty
                except OSError:
                    pass
        if not_kept:
            say(f"{len(not_kept)} file(s) over max_artifact_bytes ({self.max_artifact_bytes} "
                f"bytes) not kept: " + ", ".join(f"{f['path']} ({f['size']} bytes)"
                                                 for f in not_kept[:20]))
        if kept:
            say(f"kept {len(kept)} file(s) the run wrote ({used} bytes): "
                + ", ".join(f["path"] for f in kept[:10]) + (" …" if len(kept) > 10 else ""))
        listing = {"files": kept, "not_kept": not_kept}
        atomic_write_json(run_dir / "artifacts.json", listing)
        return listing
