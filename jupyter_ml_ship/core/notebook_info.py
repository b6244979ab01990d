"""What the lab's ship dialog needs to know about a notebook before it is shipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BadInput
from ..models import ParameterSpec
from ..naming import NAME_RE, name_from_path


class NotebookInfo(BaseModel):
    """``GET /notebook-info``: suggested job name, parameters and ``metadata.ml_ship``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="suggested job name (metadata.ml_ship.name or the file name)")
    parameters: list[ParameterSpec] = []
    config: dict[str, Any] = Field({}, description="metadata.ml_ship of the notebook, as written")


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
