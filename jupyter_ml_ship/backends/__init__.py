"""Execution backends: ``local`` (subprocess), ``docker``, ``airflow``; more via entry points.

A backend starts a run directory somewhere and later says whether it is still alive; it never
writes the store. The runner leaves ``result.json`` and the log in the run directory (or the
backend copies them there), and the service reconciles the run from them.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from ..errors import BadInput
from .base import Backend, RunContext

if TYPE_CHECKING:
    from ..config import MlShip

BUILTIN = {
    "local": "jupyter_ml_ship.backends.local:LocalBackend",
    "docker": "jupyter_ml_ship.backends.docker:DockerBackend",
    "airflow": "jupyter_ml_ship.backends.airflow:AirflowBackend",
}


def backend_names() -> list[str]:
    names = dict(BUILTIN)
    for ep in entry_points(group="jupyter_ml_ship.backends"):
        names.setdefault(ep.name, ep.value)
    return list(names)


def load_backend(name: str, settings: MlShip) -> Backend:
    target = BUILTIN.get(name)
    if target is None:
        for ep in entry_points(group="jupyter_ml_ship.backends"):
            if ep.name == name:
                target = ep.value
    if target is None:
        raise BadInput(f"unknown backend {name!r}; known: {', '.join(backend_names())}")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise BadInput(f"backend {name!r} cannot be loaded: {exc}") from None
    return cls(settings)


__all__ = ["Backend", "RunContext", "BUILTIN", "backend_names", "load_backend"]
