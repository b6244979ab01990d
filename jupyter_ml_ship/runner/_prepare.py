"""Preparing a run directory inside a container (an Airflow task): no service wrote it first.

``python -m jupyter_ml_ship.runner RUN_DIR --notebook /job/notebook.ipynb --parameters JSON``
makes ``RUN_DIR`` the way ``ShipService.run`` would (``input.ipynb`` and ``run.json``), so the
same runner executes it; ``--outputs-file`` hands the recorded outputs to the orchestrator as
one JSON object (an Airflow XCom).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..languages import preamble_cell
from ._files import atomic_write_json, atomic_write_text

#: files of an earlier attempt in the same run directory (an Airflow retry reuses it)
STALE = ("result.json", "state.json", "output.ipynb", "output.partial.ipynb")
#: cells tagged so are the notebook's tests: they run only in a validation run (gated promotion)
TEST_TAG = "test"


def write_input(notebook: Path, dest: Path, validation: bool = False) -> dict[str, Any]:
    """Copy a shipped notebook to a run's ``input.ipynb``: its cells tagged ``test`` are kept
    only when ``validation`` (the run that decides a candidate's promotion, ``run.json``'s
    ``validation``); a language whose kernel needs ``record()`` defined (R) gets a hidden first
    cell that defines it. The notebook's JSON, as written."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = nb.get("cells") or []
    kept = [c for c in cells if validation
            or TEST_TAG not in ((c.get("metadata") or {}).get("tags") or [])]
    preamble = preamble_cell(nb)  # an R notebook: record() defined before its first cell
    if preamble is not None:
        kept.insert(0, preamble)
    if len(kept) == len(cells) and preamble is None:
        shutil.copyfile(notebook, dest)
    else:
        nb["cells"] = kept
        # no fsync: the runner reads it next; after a machine crash the run is lost anyway
        atomic_write_text(dest, json.dumps(nb, indent=1, ensure_ascii=False) + "\n",
                          durable=False)
    return dict(nb)


def prepare_run_dir(run_dir: Path, notebook: Path, parameters: dict[str, Any], *,
                    run_id: str | None = None, job: str = "", version: int | None = None) -> None:
    """Write ``input.ipynb`` and ``run.json`` (one attempt: the orchestrator retries)."""
    if not isinstance(parameters, dict):
        raise ValueError(f"--parameters must be a JSON object, got {type(parameters).__name__}")
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in STALE:
        (run_dir / name).unlink(missing_ok=True)
    nb = write_input(notebook, run_dir / "input.ipynb")  # never a validation run
    kernel = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name")
    atomic_write_json(run_dir / "run.json", {
        "run_id": run_id or run_dir.name, "job": job or notebook.stem, "version": version,
        "parameters": parameters, "kernel_name": kernel or "python3", "timeout": None,
        "max_attempts": 1,
    })


def write_outputs(path: Path, outputs: dict[str, Any]) -> None:
    """The recorded outputs as one JSON object (written even when empty)."""
    atomic_write_text(path, json.dumps(outputs))
