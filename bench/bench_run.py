"""`ml-ship run --wait` (local backend) against the plain `papermill` CLI on one trivial notebook.

Alternating pairs in one process so machine load hits both alike; prints medians and the ratio.
Usage: python bench/bench_run.py [--pairs 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import nbformat  # noqa: E402
from _util import BIN, env_with, median, report, timed  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402


def trivial(path: Path) -> Path:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    params = new_code_cell("n = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell("print(n + 1)")]
    nbformat.write(nb, str(path))
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nb = trivial(tmp / "trivial.ipynb")
        env = env_with(ML_SHIP_HOME=str(tmp / "home"))
        timed([str(BIN / "ml-ship"), "ship", str(nb), "--name", "trivial"], env)
        ours, theirs = [], []
        # warm both once (page cache, bytecode)
        timed([str(BIN / "ml-ship"), "run", "trivial", "--wait", "-p", "n", "2"], env)
        timed([str(BIN / "papermill"), "-p", "n", "2", str(nb), str(tmp / "out.ipynb")], env)
        for i in range(args.pairs):
            pair = [
                ("ours", [str(BIN / "ml-ship"), "run", "trivial", "--wait", "-p", "n", str(i)]),
                ("papermill", [str(BIN / "papermill"), "-p", "n", str(i), str(nb),
                               str(tmp / "out.ipynb")]),
            ]
            if i % 2:
                pair.reverse()
            for name, cmd in pair:
                (ours if name == "ours" else theirs).append(timed(cmd, env))
        m_ours, m_theirs = median(ours), median(theirs)
        print(f"run of a trivial notebook, {args.pairs} alternating pairs (median):")
        report([
            ("ml-ship run --wait (local)", f"{m_ours:.3f} s"),
            ("papermill CLI", f"{m_theirs:.3f} s"),
            ("ratio ours / papermill", f"{m_ours / m_theirs:.2f}  (target <= 1.10, goal < 1.0)"),
        ])


if __name__ == "__main__":
    main()
