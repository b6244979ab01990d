"""A run's folder as the service sees it: made whole or not at all, its secrets masked in what
the service records, and why a run left no result when the disk was full."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import is_disk_full, no_space_message, storage_errors
from ..runner._files import atomic_write_bytes
from ..runner._mask import Masker, masker_of_run_dir

#: what a runner that ends needs at least to write its result and last log lines
_PROBE_BYTES = 64 * 1024


@contextmanager
def run_folder(run_dir: Path, made_here: bool) -> Iterator[None]:
    """Writing a new run's files: a full disk is ``InsufficientStorage`` and, when this call
    made the folder, the folder is removed (no empty or half-written run folders)."""
    try:
        with storage_errors(run_dir, "preparing the run's folder"):
            yield
    except BaseException:
        if made_here:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def masker(run_dir: str | Path) -> Masker:
    """The run's secrets (names in its run.json, values in this service's environment)."""
    return masker_of_run_dir(run_dir)


def mask_recorded(run_dir: str | Path, error: dict[str, Any] | None,
                  outputs: dict[str, Any] | None) -> tuple[dict[str, Any] | None, Any]:
    """The error and outputs to record on a run, its secrets masked (whatever backend or
    runner they came from)."""
    m = masker(run_dir)
    return m.value(error), m.value(outputs)


def no_result_reason(run_dir: Path) -> str | None:
    """Why a run that ended left no result, when it is a full disk: ``no space left on …``
    (None when there is room: it was killed, or the machine restarted)."""
    probe = run_dir / ".space-probe"
    try:
        atomic_write_bytes(probe, bytes(_PROBE_BYTES), durable=False)
    except OSError as exc:
        if is_disk_full(exc):
            return no_space_message(run_dir, "for the run's result and log: the run could not "
                                    "write them")
        return None
    finally:
        probe.unlink(missing_ok=True)
    return None
