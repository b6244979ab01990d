"""What a notebook offers a pipeline, read without running it: its outputs and parameters.

Outputs are *declared* by the ``record("name", value)`` calls in its code cells, found with
``ast``; ``metadata.ml_ship.outputs`` (a list of names) adds to them. When a name is computed
(``record(f"loss_{i}", …)``) or a cell cannot be parsed, the outputs are unknown until run
time and any reference is accepted.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..languages import language_of
from ..languages.scripts import is_script, read_script
from ..untrusted import load_json

SKIP_TAG = "ship-skip"
_MAGIC = re.compile(r"^(\s*)([%!]|\?)")


@dataclass
class NotebookFacts:
    """``outputs``: declared names, or None when they are only known at run time."""

    outputs: set[str] | None
    parameters: list[str]
    config: dict[str, Any]


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source") or ""
    return "".join(src) if isinstance(src, list) else src


def _without_magics(code: str) -> str:
    """IPython ``%magic`` / ``!shell`` lines become ``pass`` so the cell parses as Python."""
    return "\n".join(_MAGIC.sub(r"\1pass  #", line) if _MAGIC.match(line) else line
                     for line in code.splitlines())


def _record_names(code: str) -> tuple[set[str], bool]:
    """Constant names passed to ``record(...)`` / ``x.record(...)``; True if some are dynamic."""
    try:
        tree = ast.parse(_without_magics(code))
    except SyntaxError:
        return set(), "record" in code
    names, dynamic = set(), False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else \
            func.attr if isinstance(func, ast.Attribute) else None
        if called != "record":
            continue
        arg = node.args[0] if node.args else next(
            (k.value for k in node.keywords if k.arg == "name"), None)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
        else:
            dynamic = True
    return names, dynamic


def _parameter_names(cells: list[dict[str, Any]]) -> list[str]:
    """Names assigned in the ``parameters`` cell (what papermill would inject)."""
    for cell in cells:
        if cell.get("cell_type") == "code" and \
                "parameters" in ((cell.get("metadata") or {}).get("tags") or []):
            try:
                tree = ast.parse(_without_magics(_source(cell)))
            except SyntaxError:
                return []
            names: list[str] = []
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, ast.AnnAssign) else []
                for t in targets:
                    if isinstance(t, ast.Name) and t.id not in names:
                        names.append(t.id)
            return names
    return []


def notebook_facts(nb: dict[str, Any]) -> NotebookFacts:
    """Facts of a notebook's JSON (``ship-skip`` cells left out, as shipping does)."""
    cells = [c for c in nb.get("cells") or []
             if SKIP_TAG not in ((c.get("metadata") or {}).get("tags") or [])]
    config = dict((nb.get("metadata") or {}).get("ml_ship") or {})
    outputs: set[str] = set()
    dynamic = False
    lang = language_of(nb)  # R: its own reader of record() calls and parameters
    find_records = lang.record_names if lang is not None else _record_names
    for cell in cells:
        if cell.get("cell_type") == "code":
            found, dyn = find_records(_source(cell))
            outputs |= found
            dynamic = dynamic or dyn
    if lang is None:
        params = _parameter_names(cells)
    else:
        first = next((c for c in cells if _is_parameters(c)), None)
        params = [p.name for p in lang.read_parameters(_source(first))] if first else []
    declared = config.get("outputs")
    if isinstance(declared, list):
        return NotebookFacts(outputs | {str(n) for n in declared}, params, config)
    return NotebookFacts(None if dynamic else outputs, params, config)


def _is_parameters(cell: dict[str, Any]) -> bool:
    return cell.get("cell_type") == "code" and \
        "parameters" in ((cell.get("metadata") or {}).get("tags") or [])


def read_notebook_facts(path: str | Path, where: str) -> NotebookFacts:
    """Facts of a notebook file; a missing or unreadable file is a ``BadInput`` at ``where``."""
    p = Path(path)
    if not p.is_file():
        raise BadInput(f"{where}: {path}: no such notebook")
    if is_script(p):  # a script step (``script: train.py``): read through Jupytext
        try:
            return notebook_facts(read_script(p))
        except BadInput as exc:
            raise BadInput(f"{where}: {exc.message}") from None
    try:
        nb = load_json(p.read_text(encoding="utf-8"), f"{where}: {path}: ")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"{where}: {path}: not a notebook ({exc})") from None
    if not isinstance(nb, dict) or "cells" not in nb:
        raise BadInput(f"{where}: {path}: not a notebook (no cells)")
    return notebook_facts(nb)
