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
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import nbformat  # noqa: E402
from _util import BIN, env_with, median, report, timed  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

from jupyter_ml_ship.config import MlShip  # noqa: E402
from jupyter_ml_ship.core import ShipService  # noqa: E402
from jupyter_ml_ship.languages import installed_kernels  # noqa: E402
from jupyter_ml_ship.runner import _warm  # noqa: E402


def r_notebook(path: Path) -> Path:
    nb = new_notebook(metadata={"kernelspec": {"name": "ir", "display_name": "R",
                                               "language": "R"}})
    params = new_code_cell("n <- 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell("print(n + 1)")]
    nbformat.write(nb, str(path))
    return path


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=8)
    args = ap.parse_args()
    if "ir" not in installed_kernels():
        raise SystemExit("no 'ir' kernel: run scripts/r-up.sh (R and IRkernel)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nb = r_notebook(tmp / "r.ipynb")
        env = env_with(ML_SHIP_HOME=str(tmp / "home"))
        cold_env = env_with(ML_SHIP_HOME=str(tmp / "home"), ML_SHIP_WARM_RUNNER="0")
        timed([str(BIN / "ml-ship"), "ship", str(nb), "--name", "rtrivial"], env)
        svc = ShipService(MlShip(home=str(tmp / "home"), freeze_environment=False))
        svc.prewarm()  # as the Jupyter server does when it starts
        assert _warm.wait_ready(svc.settings, 60), "the warm runner did not come up"
        times: dict[str, list[float]] = {"cold": [], "warm": [], "papermill": []}

        def cmd(name: str, i: int) -> tuple[list[str], dict[str, str]]:
            if name == "papermill":
                return [str(BIN / "papermill"), "-p", "n", str(i), str(nb),
                        str(tmp / "out.ipynb")], env
            return ([str(BIN / "ml-ship"), "run", "rtrivial", "--wait", "-p", "n", str(i)],
                    cold_env if name == "cold" else env)

        for name in times:  # once each first: page cache, bytecode
            timed(*cmd(name, 2))
        before = load()
        names = list(times)
        for i in range(args.pairs):
            for name in names[i % 3:] + names[:i % 3]:
                times[name].append(timed(*cmd(name, i)))
        svc.stop_warm_runner()
        svc.close()
        cold, warm, theirs = (median(times[n]) for n in names)
        print(f"run of a trivial R notebook (IRkernel), {args.pairs} rotating rounds (median):")
        report([
            ("ml-ship run --wait (local, cold)", f"{cold:.3f} s"),
            ("ml-ship run --wait (local, warm runner up)", f"{warm:.3f} s"),
            ("papermill CLI", f"{theirs:.3f} s"),
            ("ratio ours cold / papermill", f"{cold / theirs:.2f}"),
            ("ratio ours warm / papermill", f"{warm / theirs:.2f}  (target <= 0.6)"),
            ("machine", f"before: {before}; after: {load()}"),
        ])


if __name__ == "__main__":
    main()
