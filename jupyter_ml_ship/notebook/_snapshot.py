"""Turn a notebook on disk into the immutable snapshot a version keeps.

The snapshot drops ``ship-skip`` cells, outputs and execution counts; its digest covers what
changes behaviour (cell sources and tags, kernel, the environment lock and the job config) and
nothing that does not (outputs, counts, widget state).
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ..cron import check_schedule, check_timezone
from ..errors import BadInput, TooLarge
from ..languages import check_kernel
from ..languages.scripts import is_script, read_script
from ..notify_spec import parse_notify
from ..untrusted import inside, load_json
from .environment import environment_lock
from .project import project_root

SKIP_TAG = "ship-skip"


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cpu: float | None = Field(None, gt=0)
    memory: str | None = Field(None, pattern=r"^\d+(\.\d+)?\s*[kKmMgGtT]?i?[bB]?$")
    gpu: int | None = Field(None, ge=0)


class ShipConfig(BaseModel):
    """``metadata.ml_ship`` of a notebook: every field optional."""

    model_config = ConfigDict(extra="allow")
    name: str | None = None
    backend: str | None = None
    base_image: str | None = None
    requirements: str | list[str] | None = None
    resources: Resources | None = None
    timeout: float | None = Field(None, gt=0)
    retries: int | None = Field(None, ge=0, le=20)
    env: dict[str, str] | None = None
    secrets: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]] | None = Field(
        None, description="names of environment variables handed to the run, never stored")
    schedule: str | None = None
    timezone: str | None = Field(None, description="the IANA time zone the schedule is read in "
                                 "(default UTC)")
    depends_on: list[str] | None = None
    network: bool | None = None
    root: str | None = Field(None, description="the project folder, relative to the notebook's "
                             "folder (default: that folder)")
    include: str | list[str] | None = Field(None, description="globs: ship only these files")
    exclude: str | list[str] | None = Field(None, description="gitignore patterns left out")
    notify: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description="who hears about runs: {on, email, webhook} (see notify_spec)")
    owners: str | list[str] | None = Field(
        None, description="team mode: JupyterHub groups whose members own the job too")
    run_by: Literal["owners", "team"] | None = Field(
        None, description="team mode: who may run it (default: its owners)")


#: the keys of ``metadata.ml_ship`` (and of a ``ShipRequest``'s ``config``) that name a file or
#: folder ml-ship reads: relative to the notebook's folder, confined by ``confined_paths`` to
#: the project folder (``root``, the project folder itself: to the server root) before
#: anything opens them. Every other key that takes text is data, never opened: ``TEXT_KEYS``.
#: A new key goes in one of the two (a test holds ``ShipConfig`` to them).
PATH_KEYS: tuple[str, ...] = ("root", "requirements")
TEXT_KEYS: tuple[str, ...] = ("name", "backend", "base_image", "env", "secrets", "schedule",
                              "timezone", "depends_on", "include", "exclude", "notify", "owners", "run_by")


def confined_paths(config: dict[str, Any], notebook: Path, top: Path,
                   where: str = "") -> dict[str, Path]:
    """The real paths the ``PATH_KEYS`` of ``config`` name; a ``BadInput`` naming the key
    when one is absolute or leads (``..``, a symbolic link) out of the project folder
    ``top``. ``root`` is the project folder itself, checked by ``project_root``."""
    found: dict[str, Path] = {}
    for key in PATH_KEYS:
        value = config.get(key)
        if key == "root" or not isinstance(value, str) or not value:
            continue  # a list of requirements is the requirements themselves
        found[key] = inside(value, base=notebook.resolve().parent, folder=top,
                            key=f"{where}metadata.ml_ship.{key}")
    return found


@dataclass
class Snapshot:
    notebook: dict[str, Any]
    digest: str
    config: dict[str, Any]
    environment: str
    environment_source: str
    source_path: str
    skipped_cells: list[int] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(self.notebook, indent=1, ensure_ascii=False) + "\n"


def load_notebook(path: str | Path, max_bytes: int = 200 * 1024 * 1024) -> Any:
    """Read and validate a notebook; every failure is a ``BadInput`` naming the file and the spot."""
    import nbformat

    p = Path(path)
    if not p.exists():
        raise BadInput(f"{path}: no such file")
    if p.is_dir():
        raise BadInput(f"{path}: is a directory, not a notebook")
    size = p.stat().st_size
    if size > max_bytes:
        raise TooLarge(f"{path}: {size} bytes is over the limit of {max_bytes} bytes")
    if is_script(p):  # a .py / .R script or a Markdown notebook: through Jupytext
        return read_script(p)
    raw = p.read_bytes()
    try:
        data = load_json(raw, f"{path}: ")  # nested too deep: a BadInput naming the spot
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not a notebook (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{path}: not a notebook: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise BadInput(f"{path}: not a notebook (no 'nbformat' field at the top level)")
    major = data.get("nbformat")
    if not isinstance(major, int) or major < 3:
        raise BadInput(f"{path}: nbformat {major!r} is not supported (3 or 4 needed)")
    try:
        nb = nbformat.reads(raw.decode(), as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        where = "/".join(str(x) for x in exc.absolute_path) if hasattr(exc, "absolute_path") else ""
        raise BadInput(f"{path}: invalid notebook at {where or 'top level'}: {exc.message}") from None
    except RecursionError:
        raise BadInput(f"{path}: invalid notebook: nested too deep") from None
    except Exception as exc:  # nbformat raises several types on broken structure
        raise BadInput(f"{path}: invalid notebook: {exc}") from None
    return nb


def ship_config(nb: Any, overrides: dict[str, Any] | None = None, where: str = "") -> ShipConfig:
    raw = dict(nb.get("metadata", {}).get("ml_ship") or {})
    if overrides:
        raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        config = ShipConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise BadInput(f"{where}metadata.ml_ship.{loc}: {first['msg']}") from None
    config.schedule = check_schedule(config.schedule, f"{where}metadata.ml_ship.schedule")
    if config.timezone is not None:
        config.timezone = check_timezone(config.timezone, f"{where}metadata.ml_ship.timezone")
    parse_notify(config.notify, f"{where}metadata.ml_ship.notify")
    return config


def make_snapshot(
    path: str | Path,
    nb: Any,
    overrides: dict[str, Any] | None = None,
    freeze: bool = True,
    files: list[tuple[str, str]] | None = None,
) -> Snapshot:
    """The shippable snapshot of an already loaded notebook; ``files``: the project files'
    (path, sha256), covered by the digest."""
    path = Path(path)
    config = ship_config(nb, overrides, where=f"{path.name}: ")
    cells, skipped = [], []
    for i, cell in enumerate(nb.cells):
        if SKIP_TAG in (cell.get("metadata", {}).get("tags") or []):
            skipped.append(i)
            continue
        clean = {k: v for k, v in cell.items() if k not in ("outputs", "execution_count")}
        clean["metadata"] = {
            k: v for k, v in cell.get("metadata", {}).items() if k not in ("execution", "collapsed")
        }
        if cell.cell_type == "code":
            clean["outputs"] = []
            clean["execution_count"] = None
        cells.append(clean)
    meta = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info", "ml_ship")}
    cfg = config.model_dump(exclude_none=True)
    if cfg:
        meta["ml_ship"] = cfg
    notebook = {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": nb.nbformat_minor}
    top = project_root(path, config.root)
    lock, lock_source = environment_lock(path.parent, config.requirements, freeze=freeze,
                                         within=top, where=f"{path.name}: ")
    kernel = (meta.get("kernelspec") or {}).get("name", "")
    check_kernel(notebook, where=f"{path.name}: ")  # refused now, not when a run starts
    digest_input = {
        "cells": [
            [c["cell_type"], c["source"], sorted(c.get("metadata", {}).get("tags") or [])]
            for c in cells
        ],
        "kernel": kernel,
        "environment": lock,
        "config": cfg,
    }
    if files:  # a lone notebook keeps the digest it always had
        digest_input["files"] = sorted(files)
    digest = hashlib.sha256(
        json.dumps(digest_input, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return Snapshot(notebook, digest, cfg, lock, lock_source, str(path), skipped)


def parameter_schema(snapshot_path: str | Path) -> list[dict[str, Any]]:
    """Parameters of a snapshot file (or of a script, read by Jupytext) by papermill's
    ``inspect_notebook``."""
    from papermill import inspect_notebook

    from ..languages import register_translators

    if is_script(snapshot_path):  # papermill reads notebooks only: the one Jupytext makes
        import tempfile

        import nbformat

        with tempfile.TemporaryDirectory(prefix="ml-ship-script-") as tmp:
            converted = Path(tmp) / "script.ipynb"
            nbformat.write(read_script(snapshot_path), str(converted))
            return parameter_schema(converted)
    register_translators()  # R parameters cells are read too (languages.r)
    found = inspect_notebook(str(snapshot_path))
    return [
        {
            "name": p["name"],
            "type": _type_name(p.get("inferred_type_name"), p.get("default")),
            "default": p.get("default"),
            "help": p.get("help") or "",
        }
        for p in found.values()
    ]


def _type_name(annotated: str | None, default: str | None) -> str:
    """The annotation papermill found, else the type of the default's literal value."""
    if annotated and annotated != "None":
        return annotated
    if default is None:
        return ""
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return ""  # an expression: any value is accepted
    return "None" if value is None else type(value).__name__
