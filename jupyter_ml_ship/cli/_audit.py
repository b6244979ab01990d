"""ml-ship audit JOB: the audit trail of a job or pipeline (who did what, when).

``ml-ship history JOB`` is its old name, kept as an alias that says the new one on stderr ("run
history" is the run table: ``ml-ship runs --job J --outputs``, ``core.history``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import command, dump_json, service, table, when


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "audit", "the audit trail of a job or pipeline: every ship, rollback, "
                "run, cancel and delete with its user and time", cmd_audit)
    _arguments(p)
    _arguments(command(sub, "history", "old name of `ml-ship audit`", cmd_history))


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="JOB", help="a job's or a pipeline's name")
    p.add_argument("-n", "--limit", type=int, default=200, help="most entries (200)")


def _what(kind: str, data: dict[str, Any]) -> str:
    if "run_id" in data or "pipeline_run_id" in data:
        rid = data.get("run_id") or data.get("pipeline_run_id")
        return f"{rid}" + (f" v{data['version']}" if "version" in data else "") + (
            " (queued for the agent)" if data.get("queued_for") else "")
    if "from" in data:
        return f"v{data['from']} -> v{data['to']}"
    if "version" in data:
        return f"v{data['version']}"
    return ""


def cmd_history(args: argparse.Namespace) -> int:
    """The old name: the same audit trail, and a note naming the new command."""
    print("ml-ship: note: `ml-ship history` is now `ml-ship audit`", file=sys.stderr)
    return cmd_audit(args)


def cmd_audit(args: argparse.Namespace) -> int:
    trail = service().audit_trail(args.name, args.limit)
    if args.json:
        dump_json(trail)
        return 0
    table(["WHEN", "USER", "ACTION", "WHAT"],
          [[when(e.created_at), e.actor or "-", e.kind, _what(e.kind, e.data)]
           for e in trail.events])
    return 0
