"""ml-ship compare; the columns of ml-ship runs --outputs"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import command, dump_json, seconds, service, table, when


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "compare", "two runs side by side: parameters, outputs, durations and the "
                "diff of their output notebooks", cmd_compare)
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    p.add_argument("--no-diff", action="store_true", help="leave out the notebook diff")


def print_history(svc: Any, job: str | None, status: str | None, limit: int,
                  as_json: bool) -> int:
    """``ml-ship runs --job J --outputs``: one row per run, parameters and outputs as columns."""
    from ..core.history import run_history
    from ..errors import BadInput

    if not job:
        raise BadInput("--outputs needs --job (the columns are that job's parameters and outputs)")
    history = run_history(svc, job, limit=max(1, limit))
    rows = [r for r in history.runs if status is None or r.status == status]
    if as_json:
        dump_json({"runs": rows, "parameters": [c.name for c in history.parameters],
                   "outputs": [c.name for c in history.outputs]})
        return 0
    pnames = [c.name for c in history.parameters]
    onames = [c.name for c in history.outputs]
    current = history.current_version
    table(["RUN", "VERSION", "STATUS", "STARTED", "DURATION"] + pnames + onames, [
        [r.id, f"v{r.version}{'*' if r.version == current else ''}", r.status,
         when(r.started_at), seconds(r.duration)]
        + [_cell(r.parameters, n) for n in pnames] + [_cell(r.outputs, n) for n in onames]
        for r in rows])
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..core.history import compare_runs

    cmp = compare_runs(service(), args.run_a, args.run_b)
    if args.json:
        dump_json(cmp)
        return 0
    a, b = cmp.a, cmp.b
    rows: list[list[Any]] = [
        ["run", a.id, b.id, ""],
        ["job", f"{a.job} v{a.version}", f"{b.job} v{b.version}",
         "" if (a.job, a.version) == (b.job, b.version) else "≠"],
        ["status", a.status, b.status, "" if a.status == b.status else "≠"],
        ["started", when(a.started_at), when(b.started_at), ""],
        ["duration", seconds(a.duration), seconds(b.duration), _delta(a.duration, b.duration)],
    ]
    rows += [[f"param {r.name}", _show(r.a), _show(r.b), "" if r.same else "≠"]
             for r in cmp.parameters]
    rows += [[f"output {r.name}", _show(r.a), _show(r.b),
              "" if r.same else _delta(r.a, r.b) or "≠"] for r in cmp.outputs]
    table(["", "A", "B", "Δ"], rows)
    if args.no_diff:
        return 0
    if cmp.missing:
        print(f"\nno notebook diff: no output notebook for {', '.join(cmp.missing)}")
    elif cmp.notebook_text:
        print()
        sys.stdout.write(cmp.notebook_text)
    else:
        print("\nthe output notebooks' sources are the same")
    return 0


def _cell(values: dict[str, Any], name: str) -> str:
    return _show(values[name]) if name in values else "-"


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def _delta(a: Any, b: Any) -> str:
    numbers = (int, float)
    if (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool)
            and not isinstance(b, bool)):
        d = b - a
        return "" if d == 0 else f"{d:+.4g}"
    return ""
