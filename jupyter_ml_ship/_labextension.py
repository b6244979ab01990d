"""Where the prebuilt JupyterLab extension lives inside the package.

``jupyter labextension develop`` and ``jupyter labextension install`` call
``_jupyter_labextension_paths()``; ``jupyter_ml_ship/__init__.py`` re-exports it.
"""

from __future__ import annotations


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-ml-ship"}]
