"""Shared CLI helpers: the service, parameter parsing, output formatting."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any


def service() -> Any:
    """The service; in team mode inside a hub user's server it acts as that user. With
    ``--url`` / ``ML_SHIP_URL``: a remote server's, over its REST API (``_remote``)."""
    import os

    from ..config import MlShip

    url = os.environ.get("ML_SHIP_URL", "").strip()
    if url:
        from ._remote import RemoteService

        return RemoteService(url, os.environ.get("ML_SHIP_TOKEN") or None, MlShip())
    from ..core import ShipService
    from ..core.hub import cli_actor

    settings = MlShip()
    return ShipService(settings, actor=cli_actor(settings))


def is_pipeline_file(ref: str) -> bool:
    """Whether a ``FILE|NAME[@N]`` argument names a pipeline file (or folder), not a version."""
    return Path(ref).exists() or ref.endswith((".yaml", ".yml")) or "/" in ref


def parse_value(text: str, where: str = "-p") -> Any:
    """``-p K V``: V parsed as YAML like papermill (``3`` is an int); dates stay strings.
    Aliases that expand past a bound are a ``BadInput`` (``user_yaml``)."""
    import yaml

    from ..user_yaml import safe_load

    try:
        value = safe_load(text, where)
    except yaml.YAMLError:
        return text
    if isinstance(value, (dt.date, dt.datetime)):
        return text
    return value


def add_param_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   default=[], help="a parameter; VALUE is parsed as YAML (repeatable)")


def params_of(args: argparse.Namespace) -> dict[str, Any]:
    return {k: parse_value(v, f"-p {k}") for k, v in args.parameter}


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")


def command(sub: argparse._SubParsersAction, name: str, help: str, func: Any,
            json: bool = True, description: str | None = None) -> argparse.ArgumentParser:
    """A subcommand that calls ``func(args)``, with ``--json`` unless told otherwise."""
    p = sub.add_parser(name, help=help, description=description)
    if json:
        add_json(p)
    p.set_defaults(func=func)
    return p


def dump_json(data: Any) -> None:
    from pydantic import BaseModel  # here: ``ml-ship --help`` does not import pydantic

    def plain(x: Any) -> Any:
        if isinstance(x, BaseModel):
            return x.model_dump(mode="json")
        if isinstance(x, list):
            return [plain(i) for i in x]
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        return x

    json.dump(plain(data), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def when(t: dt.datetime | None) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def owner_text(owner: str, groups: list[str]) -> str:
    """``ada (ops, data)``: who shipped it first and its owner groups (team mode)."""
    text = owner or ("-" if not groups else "")
    return f"{text} ({', '.join(groups)})".strip() if groups else text


def seconds(d: float | None) -> str:
    return "-" if d is None else (f"{d:.1f}s" if d < 120 else f"{d / 60:.1f}m")


def table(headers: list[str], rows: list[list[Any]]) -> None:
    """A plain aligned table (rich on a terminal)."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        t = Table(*headers, box=None, header_style="bold")
        for r in rows:
            t.add_row(*[str(c) for c in r])
        Console().print(t)
        return
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def err(msg: str) -> None:
    print(msg, file=sys.stderr)
