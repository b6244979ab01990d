"""The runner: executes one run directory with papermill, the same way on every backend.

A run directory holds ``run.json`` (what to run), ``input.ipynb``; the runner writes
``state.json`` (phase), ``output.ipynb`` (also on failure) and finally ``result.json``.
Cell output streams to stdout/stderr line by line as it happens.
"""

from ._execute import execute_run_dir

__all__ = ["execute_run_dir"]
