"""The languages a job may be written in, and what ml-ship needs of each kernel's language.

A language is one module (``r.py``): a papermill translator registered for it (papermill's own
registry: injection, and reading the ``parameters`` cell when papermill's cannot), the code that
defines ``record()`` in its kernel before the first cell (Python's ``record`` is imported by
the notebook itself), and how its ``record("name", …)`` calls are found without running it.
``scripts.py`` turns ``.py`` / ``.R`` percent scripts and Markdown notebooks into notebooks
through Jupytext. Used by the runner (inside images) as by the service: it imports neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput
from . import r

#: the tag of the cell the runner puts first in an R notebook: not the user's
PREAMBLE_TAG = "ml-ship-preamble"


@dataclass(frozen=True)
class Language:
    name: str  #: as kernelspecs spell it (``metadata.kernelspec.language``)
    translator: Callable[[], type]  #: papermill imported only when called
    preamble: str
    record_names: Callable[[str], tuple[set[str], bool]]
    read_parameters: Callable[[str], list[Any]]


LANGUAGES: dict[str, Language] = {
    "r": Language("R", r.translator, r.RECORD, r.record_names, r.read_parameters),
}
_registered = False


def register_translators() -> None:
    """Register the translators with papermill (once): injection and parameters cells."""
    global _registered
    if _registered:
        return
    from papermill.translators import papermill_translators

    for lang in LANGUAGES.values():
        papermill_translators.register(lang.name, lang.translator())
    _registered = True


def language_name(nb: dict[str, Any]) -> str:
    """The notebook's language, lower case (``python`` when it does not say)."""
    meta = nb.get("metadata") or {}
    spec = meta.get("kernelspec") or {}
    name = spec.get("language") or (meta.get("language_info") or {}).get("name")
    if not name and spec.get("name") == "ir":
        name = "R"
    return str(name or "python").lower()


def language_of(nb: dict[str, Any]) -> Language | None:
    """The notebook's language when ml-ship has more to do for it than for Python."""
    return LANGUAGES.get(language_name(nb))


def preamble_cell(nb: dict[str, Any]) -> dict[str, Any] | None:
    """The hidden first cell that defines ``record()`` in the notebook's kernel, if needed."""
    lang = language_of(nb)
    if lang is None or not lang.preamble:
        return None
    cell: dict[str, Any] = {
        "cell_type": "code", "execution_count": None, "outputs": [], "source": lang.preamble,
        "metadata": {"tags": [PREAMBLE_TAG], "jupyter": {"source_hidden": True}},
    }
    if (nb.get("nbformat"), nb.get("nbformat_minor") or 0) >= (4, 5):  # cell ids since 4.5
        cell["id"] = "ml-ship-preamble"
    return cell


def installed_kernels() -> dict[str, str]:
    """Kernel names installed for this Jupyter (``python3`` always: jupyter_client's own),
    each with its language."""
    from jupyter_client.kernelspec import KernelSpecManager

    found = {"python3": "python"}
    for name, info in KernelSpecManager().get_all_specs().items():
        found[name] = str((info.get("spec") or {}).get("language") or "")
    return found




def check_kernel(nb: dict[str, Any], where: str = "") -> None:
    """A ``BadInput`` naming the notebook's kernel and the installed ones when it is not
    installed here (a run could only fail to start)."""
    name = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name") or "python3"
    if name == "python3":
        return
    kernels = installed_kernels()
    if name not in kernels:
        hint = " (R: scripts/r-up.sh installs R and IRkernel)" \
            if language_name(nb) == "r" or name == "ir" else ""
        raise BadInput(f"{where}kernel {name!r} is not installed here; installed kernels: "
                       f"{', '.join(sorted(kernels))}{hint}")


__all__ = ["LANGUAGES", "PREAMBLE_TAG", "Language", "check_kernel", "installed_kernels",
           "language_name", "language_of", "preamble_cell", "register_translators"]
