"""The run's own files, written so that a full disk leaves no debris and still gives a result.

- The output notebook: papermill saves it after every cell; here each save is masked
  (``_mask``) and atomic (temp file, rename), so a full disk leaves the last whole save.
- ``result.json``: a reserve file is set aside when the run starts; when the disk is full at
  the end, the reserve is given back and the result written in its place, so the run ends
  ``failed`` with "no space left on …" instead of "ended without a result".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import is_disk_full
from ._files import atomic_write_bytes, atomic_write_json
from ._mask import Masker

RESERVE = ".result.reserve"
RESERVE_BYTES = 256 * 1024


class _MaskedNotebookWriter:
    """A papermill I/O handler for one path: saves masked, whole or not at all."""

    def __init__(self, masker: Masker, fallback: Any):
        self.masker, self.fallback = masker, fallback

    def read(self, path: str) -> Any:
        return self.fallback.read(path)

    def listdir(self, path: str) -> Any:
        return self.fallback.listdir(path)

    def pretty_path(self, path: str) -> str:
        return str(path)

    def write(self, buf: str, path: str) -> None:
        atomic_write_bytes(path, self.masker.notebook_text(buf).encode("utf-8"), durable=False)


def save_output_through(path: Path, masker: Masker) -> None:
    """Have papermill save the notebook at ``path`` masked and atomically."""
    try:
        from papermill.iorw import LocalHandler, papermill_io
    except ImportError:  # a broken runtime: the attempt imports papermill and fails, saying why
        return

    papermill_io.register(str(path), _MaskedNotebookWriter(masker, LocalHandler()))


def reserve_space(run_dir: Path) -> None:
    """Set aside room for the result (no room now: the run goes on without it)."""
    try:
        atomic_write_bytes(run_dir / RESERVE, bytes(RESERVE_BYTES), durable=False)
    except OSError:
        pass


def write_result(run_dir: Path, result: dict[str, Any]) -> None:
    """``result.json``; on a full disk, again in the reserve's room."""
    try:
        atomic_write_json(run_dir / "result.json", result)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        (run_dir / RESERVE).unlink(missing_ok=True)
        atomic_write_json(run_dir / "result.json", result)
    (run_dir / RESERVE).unlink(missing_ok=True)
