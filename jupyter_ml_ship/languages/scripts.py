"""Scripts are jobs too: ``.py`` / ``.R`` files (percent ``# %%`` or light format) and Markdown
notebooks (``.md``) read as notebooks through Jupytext.

The parameters cell is Jupytext's: ``# %% tags=["parameters"]`` (a Markdown code fence
``tags=["parameters"]``); a code cell titled ``Parameters`` (``# %% Parameters``) or whose first
line is the comment ``# Parameters`` is taken as the parameters cell when no cell is tagged.
A script that names no kernel (no Jupytext header) gets its language's: ``python3`` for ``.py``,
the installed R kernel (``ir``) for ``.R``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import BadInput

#: file suffixes (lower case) shipped through Jupytext, with the language a bare script is in
SCRIPT_SUFFIXES: dict[str, str] = {".py": "python", ".r": "R", ".md": ""}
_KERNELS: dict[str, dict[str, str]] = {
    "python": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "R": {"name": "ir", "display_name": "R", "language": "R"},
}
_TITLE = re.compile(r"^\s*#+\s*parameters\s*$", re.IGNORECASE)


def is_script(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SCRIPT_SUFFIXES


def _first_line(cell: Any) -> str:
    src = cell.get("source") or ""
    src = "".join(src) if isinstance(src, list) else src
    return src.split("\n", 1)[0]


def _tag_parameters(nb: Any) -> None:
    code = [c for c in nb.cells if c.cell_type == "code"]
    if any("parameters" in (c.metadata.get("tags") or []) for c in code):
        return
    for cell in code:
        title = str(cell.metadata.get("title") or "")
        if title.strip().lower() == "parameters" or _TITLE.match(_first_line(cell)):
            cell.metadata["tags"] = [*(cell.metadata.get("tags") or []), "parameters"]
            return


def read_script(path: str | Path, text: str | None = None) -> Any:
    """The notebook (nbformat v4) Jupytext reads from a script; a ``BadInput`` naming the file
    when it cannot."""
    import jupytext  # type: ignore[import-untyped]

    p = Path(path)
    suffix = p.suffix.lower()
    if text is None:
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"{path}: not a script (not UTF-8 text)") from None
    ext = ".R" if suffix == ".r" else suffix
    try:
        nb = jupytext.reads(text, fmt=ext[1:])
    except Exception as exc:  # jupytext raises several types on text it cannot read
        raise BadInput(f"{path}: Jupytext cannot read it: {exc}") from None
    if not nb.metadata.get("kernelspec"):
        language = SCRIPT_SUFFIXES[suffix] or _markdown_language(nb)
        nb.metadata["kernelspec"] = dict(_KERNELS.get(language, _KERNELS["python"]))
    _tag_parameters(nb)
    for i, cell in enumerate(nb.cells):  # nbformat 4.5 wants ids; Jupytext gives none
        cell.setdefault("id", f"cell-{i}")
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor") or 0)
    return nb


def _markdown_language(nb: Any) -> str:
    """The language of a Markdown notebook without a header: its code fences'."""
    main = str((nb.metadata.get("jupytext") or {}).get("main_language") or "")
    if main.lower() == "r":
        return "R"
    for cell in nb.cells:
        if cell.cell_type == "code" and str(cell.metadata.get("language") or "").lower() == "r":
            return "R"
    return "python"
