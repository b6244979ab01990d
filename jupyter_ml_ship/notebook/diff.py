"""Notebook diffs through nbdime: sources only (outputs, counts and cell metadata left out; of
the notebook's metadata only the kernel and language, which say how to highlight it)."""

from __future__ import annotations

import io
from typing import Any


def _sources_only(nb: dict[str, Any]) -> dict[str, Any]:
    cells = []
    for cell in nb.get("cells") or []:
        clean = {"cell_type": cell.get("cell_type", "code"), "source": cell.get("source", ""),
                 "metadata": {}}
        if clean["cell_type"] == "code":
            clean.update(outputs=[], execution_count=None)
        cells.append(clean)
    meta = nb.get("metadata") or {}
    keep = {k: meta[k] for k in ("kernelspec", "language_info") if k in meta}  # for highlighting
    return {"cells": cells, "metadata": keep, "nbformat": nb.get("nbformat", 4),
            "nbformat_minor": nb.get("nbformat_minor", 5)}


def notebook_diff(a: dict[str, Any], b: dict[str, Any], name_a: str = "a", name_b: str = "b",
                  color: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The base (``a``'s sources), nbdime's diff of it to ``b``'s (JSON, as nbdime's web view
    takes it) and the same diff as text."""
    import nbformat
    from nbdime import diff_notebooks
    from nbdime.prettyprint import PrettyPrintConfig, pretty_print_diff

    left = nbformat.from_dict(_sources_only(a))
    right = nbformat.from_dict({**_sources_only(b), "metadata": left.metadata})  # cells only
    diff = diff_notebooks(left, right)
    out = io.StringIO()
    if diff:
        out.write(f"--- {name_a}\n+++ {name_b}\n")
        pretty_print_diff(left, diff, "nb", PrettyPrintConfig(out=out, use_git=False,
                                                               use_color=color))
    return _plain(dict(left)), _plain(diff), out.getvalue()


def _plain(value: Any) -> Any:
    """nbdime's diff entries are dict subclasses: plain JSON types for the wire."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
