"""An R notebook: `ml-ship run --wait` (local backend) against the plain `papermill` CLI on the
same R notebook (IRkernel), target <= 0.6x.

Rotating rounds in one process so machine load hits all alike; prints medians, the ratios and
the machine load. Ours cold (ML_SHIP_WARM_RUNNER=0: a new runner interpreter per run) and with
the warm runner up (what runs get while JupyterLab or a pipeline keeps it). Needs R and IRkernel
(scripts/r-up.sh).
Usage: python bench/bench_r.py [--pairs 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import load, notebook, ours_vs_papermill, papermill_rows, report  # noqa: E402

from jupyter_ml_ship.languages import installed_kernels  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=8)
    args = ap.parse_args()
    if "ir" not in installed_kernels():
        raise SystemExit("no 'ir' kernel: run scripts/r-up.sh (R and IRkernel)")
    with tempfile.TemporaryDirectory() as tmp:
        nb = notebook(Path(tmp) / "r.ipynb", "print(n + 1)", params="n <- 1", kernel="ir")
        before = load()
        t = ours_vs_papermill(nb, "rtrivial", Path(tmp) / "home", args.pairs)
    print(f"run of a trivial R notebook (IRkernel), {args.pairs} rotating rounds (median):")
    report(papermill_rows(t, warm_target="<= 0.6")
           + [("machine", f"before: {before}; after: {load()}")])


if __name__ == "__main__":
    main()
