"""``ml-ship``: the command-line face of the service.

Exit codes: 0 success, 1 a run (or pipeline) did not succeed, 2 bad usage or bad input (or
no space left on the disk; with ``--url``: a refused token, a server that cannot be reached).
Command groups live in sibling modules, each with ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

from .._version import __version__

#: modules of this package that add commands; each defines register(subparsers)
COMMAND_MODULES = ["_jobs", "_runs", "_files", "_pipelines", "_schedules", "_images", "_warmcmd",
                   "_agent", "_compare", "_audit", "_health", "_promote",
                   "_triggers"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ml-ship",
        description="Ship notebooks as versioned, parameterized jobs; run, watch and roll back.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--home", help="state directory (env ML_SHIP_HOME)")
    parser.add_argument("--db", help="SQLAlchemy URL of the store (env ML_SHIP_DB_URL)")
    parser.add_argument("--url", help="run the command against this Jupyter server's REST API "
                        "instead of the local store, e.g. https://hub/user/ada/ (env "
                        "ML_SHIP_URL)")
    parser.add_argument("--token", help="the Jupyter token for --url (env ML_SHIP_TOKEN)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(name):
                continue  # a command group not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # nbformat → jsonschema imports rfc3987_syntax, a second of CPU building a grammar for IRI
    # format checks that notebooks never use: skip that optional checker (see runner/__main__).
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.home:
        os.environ["ML_SHIP_HOME"] = args.home
    if args.db:
        os.environ["ML_SHIP_DB_URL"] = args.db
    if args.url:
        os.environ["ML_SHIP_URL"] = args.url
    if args.token:
        os.environ["ML_SHIP_TOKEN"] = args.token
    from ..errors import ShipError, storage_error

    try:
        return int(args.func(args) or 0)
    except ShipError as exc:
        print(f"ml-ship: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ml-ship: interrupted (runs keep going; `ml-ship cancel RUN` stops one)",
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        full = storage_error(exc)  # a full disk is no bug: one line, not a traceback
        if full is None:
            raise
        print(f"ml-ship: error: {full.message}", file=sys.stderr)
        return 2


def run_main() -> None:  # pragma: no cover - console entry point
    sys.exit(main())
