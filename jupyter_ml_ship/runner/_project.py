"""The run's private copy of its project, and the files it creates or changes (its artifacts).

The copy is at ``$ML_SHIP_PROJECT_DIR`` (in an image: ``/job/project``, private to the container)
or ``RUN_DIR/project`` (laid out by the service). The notebook runs in its own folder there. What
the run creates or changes (size or mtime differ from before the run; hidden files and
``__pycache__`` aside) is moved to ``RUN_DIR/artifacts`` up to ``max_artifact_bytes`` and listed
in ``RUN_DIR/artifacts.json``; the local copy is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store.files import atomic_write_json

DEFAULT_MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024


def _walk(root: Path) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if e.name.startswith(".") or e.name == "__pycache__":
                continue
            if e.is_dir(follow_symlinks=False):
                stack.append((Path(e.path), f"{prefix}{e.name}/"))
            elif e.is_file(follow_symlinks=False):
                st = e.stat(follow_symlinks=False)
                found[prefix + e.name] = (st.st_size, st.st_mtime_ns)
    return found


@dataclass
class Project:
    root: Path
    cwd: Path
    max_artifact_bytes: int
    private: bool  # the copy lives in the run directory (remove it after the run)
    before: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, run_dir: Path, spec: dict[str, Any]) -> Project | None:
        info = spec.get("project")
        in_image = os.environ.get("ML_SHIP_PROJECT_DIR")
        if info is None and not in_image:
            return None  # a version shipped before projects: the run directory, as it was
        info = info or {}
        root = Path(in_image) if in_image else run_dir / "project"
        notebook_dir = info.get("notebook_dir", os.environ.get("ML_SHIP_NOTEBOOK_DIR", ""))
        cwd = root / notebook_dir if notebook_dir else root
        cwd.mkdir(parents=True, exist_ok=True)
        limit = int(info.get("max_artifact_bytes") or DEFAULT_MAX_ARTIFACT_BYTES)
        return cls(root.resolve(), cwd.resolve(), limit, private=not in_image)

    def start(self) -> None:
        self.before = _walk(self.root)

    def collect(self, run_dir: Path, say: Any) -> dict[str, Any]:
        """Move what the run created or changed into ``RUN_DIR/artifacts``; the listing."""
        now = _walk(self.root)
        changed = sorted(p for p, stamp in now.items() if self.before.get(p) != stamp)
        dest = run_dir / "artifacts"
        kept: list[dict[str, Any]] = []
        not_kept: list[dict[str, Any]] = []
        used = 0
        for rel in changed:
            size = now[rel][0]
            if used + size > self.max_artifact_bytes:
                not_kept.append({"path": rel, "size": size})
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.move(str(self.root / rel), str(target))
            except OSError as exc:
                say(f"artifact {rel} could not be kept: {exc}")
                continue
            used += size
            kept.append({"path": rel, "size": size})
        if not_kept:
            say(f"{len(not_kept)} file(s) over max_artifact_bytes ({self.max_artifact_bytes} "
                f"bytes) not kept: " + ", ".join(f"{f['path']} ({f['size']} bytes)"
                                                 for f in not_kept[:20]))
        if kept:
            say(f"kept {len(kept)} file(s) the run wrote ({used} bytes): "
                + ", ".join(f["path"] for f in kept[:10]) + (" …" if len(kept) > 10 else ""))
        listing = {"files": kept, "not_kept": not_kept}
        atomic_write_json(run_dir / "artifacts.json", listing)
        if self.private:
            shutil.rmtree(self.root, ignore_errors=True)
        return listing
