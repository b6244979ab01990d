"""What the lab's ship dialog needs to know about a notebook before it is shipped."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput
from ..models import ParameterSpec
from ..models.lab import NotebookInfo
from ..naming import NAME_RE, name_from_path


def notebook_info(path: str | Path, max_bytes: int = 200 * 1024 * 1024) -> NotebookInfo:
    """Read a notebook (not shipping it): its parameters by papermill and its ship settings."""
    from ..notebook import load_notebook, parameter_schema

    nb = load_notebook(path, max_bytes)
    config = dict(nb.get("metadata", {}).get("ml_ship") or {})
    name = config.get("name")
    if not (isinstance(name, str) and NAME_RE.match(name)):
        try:
            name = name_from_path(path)
        except BadInput:
            name = ""
    return NotebookInfo(
        name=name,
        parameters=[ParameterSpec(**p) for p in parameter_schema(path)],
        config=config,
    )
