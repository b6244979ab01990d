"""Shared fixtures: a service on a temporary home, notebooks made on the fly, required components.

A test that needs a real component (docker, airflow, browser, postgres) calls ``require(NAME)``:
it skips on a developer machine without it, and FAILS when ``ML_SHIP_REQUIRE`` names it (CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def required() -> set[str]:
    return {c.strip() for c in os.environ.get("ML_SHIP_REQUIRE", "").split(",") if c.strip()}


def require(component: str, ok: bool, why: str) -> None:
    """Skip (laptop) or fail (CI, ``ML_SHIP_REQUIRE``) when a real component is missing."""
    if ok:
        return
    if component in required():
        pytest.fail(f"{component} is required (ML_SHIP_REQUIRE) but not usable: {why}")
    pytest.skip(f"{component} not available: {why}")


def stop_process(proc: subprocess.Popen[Any], grace: float = 15) -> None:
    """Stop a server a test started: SIGTERM, then SIGKILL after ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()


def make_notebook(path: Path, *cells: str, params: str | None = None,
                  tags: dict[int, list[str]] | None = None, metadata: dict | None = None) -> Path:
    """A v4 notebook: optional parameters cell first, then code cells ('#md ' prefix: markdown)."""
    nb = new_notebook(metadata={"kernelspec": KERNELSPEC, **(metadata or {})})
    if params is not None:
        c = new_code_cell(params)
        c.metadata["tags"] = ["parameters"]
        nb.cells.append(c)
    for i, src in enumerate(cells):
        cell = new_markdown_cell(src[4:]) if src.startswith("#md ") else new_code_cell(src)
        if tags and i in tags:
            cell.metadata["tags"] = tags[i]
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "home"
    # a pipeline scheduler or a server started a warm runner for this home: stop it with the test
    from jupyter_ml_ship.runner import _warm

    _warm.stop(MlShip(home=str(tmp_path / "home")))


@pytest.fixture
def settings(home: Path) -> MlShip:
    return MlShip(home=str(home), freeze_environment=False)


@pytest.fixture
def svc(settings: MlShip) -> Iterator[ShipService]:
    service = ShipService(settings)
    yield service
    for run_id in service.active_run_ids():
        try:
            service.cancel(run_id)
        except Exception:
            pass
    service.close()


@pytest.fixture
def nb(tmp_path: Path) -> Callable[..., Path]:
    """``nb("name.ipynb", "print(1)", params="x = 1")`` writes a notebook in the test's folder."""

    def _make(name: str, *cells: str, **kw: Any) -> Path:
        return make_notebook(tmp_path / "work" / name, *cells, **kw)

    return _make


@pytest.fixture
def cli_env(home: Path) -> dict[str, str]:
    """Environment for running ``ml-ship`` as a subprocess against the test's home."""
    env = dict(os.environ)
    env["ML_SHIP_HOME"] = str(home)
    env.pop("ML_SHIP_DB_URL", None)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env
