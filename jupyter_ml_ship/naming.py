"""Job names and parameter validation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .errors import BadInput, TooLarge

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def check_name(name: str, what: str = "job") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise BadInput(
            f"{what} name {name!r} is not allowed: use lowercase letters, digits and '-', "
            "starting with a letter or digit, at most 63 characters"
        )
    return name


def name_from_path(path: str | Path) -> str:
    stem = Path(path).name
    for suffix in (".pipeline.yaml", ".pipeline.yml", ".ipynb", ".py", ".R", ".r", ".md"):
        if stem.endswith(suffix):  # a script ships through Jupytext
            stem = stem[: -len(suffix)]
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:63].strip("-")
    if not slug:
        raise BadInput(f"{path}: cannot derive a job name from the file name; pass --name")
    return slug


_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
    "tuple": (list,),
}


def validate_parameters(
    schema: list[dict[str, Any]], params: dict[str, Any] | None, where: str, max_bytes: int
) -> dict[str, Any]:
    """Check run parameters against a version's schema; the error names the parameter."""
    params = dict(params or {})
    try:
        size = len(json.dumps(params, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{where}: parameters must be JSON values: {exc}") from None
    if size > max_bytes:
        raise TooLarge(f"{where}: parameters are {size} bytes, over the limit of {max_bytes}")
    known = {p["name"]: p for p in schema}
    for key, value in params.items():
        spec = known.get(key)
        if spec is None:
            names = ", ".join(sorted(known)) or "none"
            raise BadInput(f"{where}: unknown parameter {key!r} (parameters: {names})")
        expected = _TYPES.get(spec.get("type") or "")
        if expected is None or value is None:
            continue
        ok = isinstance(value, expected) and not (
            isinstance(value, bool) and bool not in expected
        )
        if not ok:
            raise BadInput(
                f"{where}: parameter {key!r} must be {spec['type']} (default "
                f"{spec.get('default')}), got {type(value).__name__} {value!r}"
            )
        if spec["type"] == "float" and isinstance(value, int):
            params[key] = float(value)
    return params
