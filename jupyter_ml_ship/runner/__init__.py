"""The runner: executes one run directory with papermill, the same way on every backend.

A run directory holds ``run.json`` (what to run), ``input.ipynb``; the runner writes
``state.json`` (phase), ``output.ipynb`` (also on failure) and finally ``result.json``.
Cell output streams to stdout/stderr line by line as it happens.
"""

from __future__ import annotations

from typing import Any

__all__ = ["execute_run_dir"]


def __getattr__(name: str) -> Any:
    """``execute_run_dir`` on first use: a process that only reads run files (the CLI's
    ``ml-ship jobs``, the store) does not import papermill's side of the runner."""
    if name == "execute_run_dir":
        from ._execute import execute_run_dir

        return execute_run_dir
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
