"""`ml-ship run --wait` (local backend) against the plain `papermill` CLI on one trivial notebook.

Rotating rounds in one process so machine load hits all alike; prints medians and ratios.
Two ways of ours: cold (ML_SHIP_WARM_RUNNER=0: the runner and kernel are new interpreters, what a
lone CLI call gets) and with the warm runner up (what runs get while JupyterLab or a pipeline
keeps it: forked runner and kernel).
Usage: python bench/bench_run.py [--pairs 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import load, notebook, ours_vs_papermill, papermill_rows, report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        nb = notebook(Path(tmp) / "trivial.ipynb", "print(n + 1)")
        before = load()
        t = ours_vs_papermill(nb, "trivial", Path(tmp) / "home", args.pairs)
    print(f"run of a trivial notebook, {args.pairs} rotating rounds (median):")
    report(papermill_rows(t, cold_target="<= 1.10, goal < 1.0")
           + [("machine", f"before: {before}; after: {load()}")])


if __name__ == "__main__":
    main()
