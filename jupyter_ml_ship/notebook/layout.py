"""Project layouts: a notebook that reaches outside its folder, and the folder to ship instead.

A realistic project keeps its notebooks in ``notebooks/``, its code in ``src/`` and its data in
``data/``; a notebook there reaches up (``sys.path.insert(0, "..")``, ``"../data/loans.csv"``,
``from src.features import …``). Shipping only ``notebooks/`` then fails in the run. Two helpers,
reading files but never running anything:

- ``propose_root``: the folder (relative to the notebook's, as ``metadata.ml_ship.root`` takes
  it) that holds what the notebook reaches, with the reasons, read from its code cells;
- ``outside_hint``: for a run that failed with ``ModuleNotFoundError`` / ``FileNotFoundError``,
  whether the missing thing exists outside the shipped folder, and how to ship it along.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: files or folders that mark the top of a project
MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
#: how far up a notebook's imports are looked for
MAX_LEVELS = 6
_SYS_PATH = re.compile(
    r"sys\.path\.(?:insert|append)\(\s*(?:-?\d+\s*,\s*)?(?P<arg>.*)\)[ \t]*(?:#.*)?$",
    re.MULTILINE)
_STRING = re.compile(r"""(?P<q>['"])(?P<s>(?:\.\.[/\\]?)[^'"\n]*)(?P=q)""")
_PARENT_CALL = re.compile(r"\.parent\b|os\.pardir|dirname\(")
_MAGIC = re.compile(r"^\s*[%!?]")


@dataclass
class RootProposal:
    """Ship from ``root`` (relative to the notebook's folder) because of ``reasons``."""

    root: str
    folder: Path
    reasons: list[str] = field(default_factory=list)


def _code(nb: Any) -> list[str]:
    cells = nb.get("cells") if isinstance(nb, dict) else getattr(nb, "cells", None)
    out = []
    for cell in cells or []:
        get = cell.get if isinstance(cell, dict) else lambda k, d=None, c=cell: getattr(c, k, d)
        if get("cell_type") != "code":
            continue
        source = get("source", "")
        out.append("".join(source) if isinstance(source, list) else str(source or ""))
    return out


def _imports(source: str) -> list[str]:
    """Top-level names imported by absolute imports (magics and shell lines left out)."""
    text = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module.split(".")[0])
    return names


def _ups(path: str) -> int:
    """How many folders above the notebook's a relative path reaches (``../../x``: 2)."""
    depth = lowest = 0
    for part in re.split(r"[/\\]+", path):
        if part == "..":
            depth -= 1
            lowest = min(lowest, depth)
        elif part and part != ".":
            depth += 1
    return -lowest


def _module_above(folder: Path, name: str, top: Path | None) -> tuple[Path, str] | None:
    """The nearest folder above ``folder`` holding module ``name`` (``name/`` or ``name.py``,
    or in a ``src/`` layout), and where it is; None if ``folder`` itself has it."""
    if name in sys.stdlib_module_names or (folder / name).exists() \
            or (folder / f"{name}.py").exists():
        return None
    here = folder
    for _ in range(MAX_LEVELS):
        if here == top or here.parent == here:
            return None
        here = here.parent
        for rel in (name, f"{name}.py", f"src/{name}", f"src/{name}.py"):
            candidate = here / rel
            if candidate.is_file() or (candidate.is_dir() and any(candidate.glob("*.py"))):
                return here, rel
    return None


def _project_top(folder: Path, needed: Path, top: Path | None) -> Path:
    """The project's top: the nearest marked folder (pyproject.toml, .git…) at or above
    ``needed``, within ``top``; else ``needed``."""
    here = needed
    for _ in range(MAX_LEVELS):
        if any((here / m).exists() for m in MARKERS):
            return here
        if here == top or here.parent == here:
            break
        here = here.parent
    return needed


def propose_root(notebook: Path, nb: Any, current: str | None = None,
                 top: Path | None = None) -> RootProposal | None:
    """The folder to ship ``notebook`` from when its code reaches above its folder (and above
    ``current``, the root it has); None when its folder (or ``current``) holds what it uses.
    ``top``: the highest folder that may be proposed (the server root)."""
    folder = notebook.resolve().parent
    top = top.resolve() if top is not None else None
    reasons: list[str] = []
    levels = 0
    for source in _code(nb):
        for match in _SYS_PATH.finditer(source):
            arg = match.group("arg")
            lit = _STRING.search(arg)
            up = _ups(lit.group("s")) if lit else len(_PARENT_CALL.findall(arg))
            if up:
                levels = max(levels, up)
                reasons.append(f"it adds {arg.strip()} to sys.path")
        for match in _STRING.finditer(source):
            up = _ups(match.group("s"))
            if up and not any(match.group("s") in r for r in reasons):
                levels = max(levels, up)
                reasons.append(f"it reads {match.group('s')}")
        for name in dict.fromkeys(_imports(source)):
            found = _module_above(folder, name, top)
            if found is not None:
                where, rel = found
                levels = max(levels, len(folder.relative_to(where).parts))
                shown = os.path.relpath(where / rel, folder).replace(os.sep, "/")
                reasons.append(f"it imports {name}, which is {shown}")
    if not levels:
        return None
    needed = folder
    for _ in range(levels):
        if needed == top or needed.parent == needed:
            break
        needed = needed.parent
    chosen = _project_top(folder, needed, top)
    marker = next((m for m in MARKERS if (chosen / m).exists()), None)
    if marker is not None and chosen != folder:
        reasons.append(f"{os.path.relpath(chosen / marker, folder)} marks the project's top")
    if current not in (None, "", "."):
        have = (folder / str(current)).resolve()
        if have == chosen or have in chosen.parents:
            return None  # the root it has already holds all of it
    if chosen == folder:
        return None
    root = os.path.relpath(chosen, folder).replace(os.sep, "/")
    return RootProposal(root=root, folder=chosen, reasons=list(dict.fromkeys(reasons)))


_MISSING_MODULE = re.compile(r"No module named '([^'.]+)")
_MISSING_FILE = re.compile(r"No such file or directory: '([^']+)'")


def outside_hint(ename: str | None, evalue: str | None, notebook_dir: Path, shipped: Path,
                 show: Callable[[Path], str]) -> str | None:
    """A ``ModuleNotFoundError`` / ``FileNotFoundError`` for something that exists outside the
    shipped folder ``shipped`` (the user's, on disk): what it is and how to ship it along.
    ``notebook_dir``: the notebook's folder on disk; ``show``: a path as the user knows it."""
    value = evalue or ""
    found: Path | None = None
    what = ""
    if ename == "ModuleNotFoundError":
        match = _MISSING_MODULE.search(value)
        module = match.group(1) if match else ""
        above = _module_above(notebook_dir, module, None) if module else None
        if above is not None and shipped not in (above[0], *above[0].parents):
            found = above[0]
            what = f"module {module!r} is {show(above[0] / above[1])}"
    elif ename == "FileNotFoundError":
        match = _MISSING_FILE.search(value)
        name = match.group(1) if match else ""
        if name and not os.path.isabs(name):
            target = Path(os.path.normpath(notebook_dir / name))
            if target.exists() and shipped not in target.parents:
                what = f"{name} is {show(target)}"
                found = Path(os.path.commonpath([target, notebook_dir]))
    if found is None:
        return None
    root = os.path.relpath(found, notebook_dir).replace(os.sep, "/")
    return (f"{what}, outside the shipped folder {show(shipped) or '(the server root)'}. "
            f"Ship the project folder {show(found) or '(the server root)'} instead: choose it "
            f"as the Project folder in the Ship dialog, or set metadata.ml_ship.root to "
            f"{root!r} (ml-ship ship … then takes it along).")
