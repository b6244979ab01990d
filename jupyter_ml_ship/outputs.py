"""``record(name, value)``: how a notebook hands values to the run, the lab and downstream steps.

A recorded value is a display output of mimetype ``OUTPUT_MIMETYPE`` in the output notebook, so it
survives any backend (a subprocess, a container, an Airflow task) and is parsed back afterwards.
"""

from __future__ import annotations

import json
import re
from typing import Any

OUTPUT_MIMETYPE = "application/vnd.jupyter-ml-ship.output+json"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


def record(name: str, value: Any) -> None:
    """Record an output of this run (JSON-serializable), visible in the lab and to later steps."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"record(): output name {name!r} is not allowed; use letters, digits, '_', '.', '-'"
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"record({name!r}, ...): the value must be JSON-serializable "
            f"(got {type(value).__name__}: {exc})"
        ) from None
    from IPython.display import display

    display(
        {OUTPUT_MIMETYPE: {"name": name, "value": value}, "text/plain": f"{name} = {value!r}"},
        raw=True,
    )


def parse_outputs(nb: Any) -> dict[str, Any]:
    """Recorded values of an executed notebook (a later record of the same name wins)."""
    found: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            data = out.get("data") or {}
            payload = data.get(OUTPUT_MIMETYPE)
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload)
                except ValueError:
                    continue
            if isinstance(payload, dict) and "name" in payload:
                found[str(payload["name"])] = payload.get("value")
    return found
