"""jupyter_ml_ship: ship a notebook to production from JupyterLab."""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .outputs import record, record_data

__all__ = ["__version__", "record", "record_data"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server import MlShipExtension

    return [{"module": "jupyter_ml_ship", "app": MlShipExtension}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-ml-ship"}]
