"""Time to ship a 5 MB notebook (mostly outputs, as real notebooks are): CLI and in-process."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import nbformat  # noqa: E402
from _util import BIN, env_with, median, report, timed  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402


def big_notebook(path: Path, mb: float = 5.0) -> Path:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    params = new_code_cell("rows = 10")
    params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    i = 0
    while len(nbformat.writes(nb)) < mb * 1024 * 1024:
        cell = new_code_cell(f"# cell {i}\nfor r in range(rows):\n    print(r * {i})")
        cell.outputs = [new_output("stream", name="stdout", text="x" * 50_000 + "\n")]
        nb.cells += [new_markdown_cell(f"## Section {i}\nSome prose."), cell]
        i += 1
    nbformat.write(nb, str(path))
    return path


def main() -> None:
    from jupyter_ml_ship.config import MlShip
    from jupyter_ml_ship.core import ShipService

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nb = big_notebook(tmp / "big.ipynb")
        size = nb.stat().st_size / 1024 / 1024
        svc = ShipService(MlShip(home=str(tmp / "home")))
        in_process, unchanged = [], []
        for i in range(7):
            data = nbformat.read(str(nb), as_version=4)
            data.cells[1].source = f"## Section 0, edit {i}"
            nbformat.write(data, str(nb))
            t = time.perf_counter()
            svc.ship(nb)
            in_process.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert not svc.ship(nb).created
            unchanged.append(time.perf_counter() - t)
        env = env_with(ML_SHIP_HOME=str(tmp / "home2"))
        cli = [timed([str(BIN / "ml-ship"), "ship", str(nb), "-m", str(i)], env) for i in range(5)]
        print(f"ship a {size:.1f} MB notebook (median):")
        report([
            ("new version, in-process", f"{median(in_process):.3f} s  (target < 0.3 s)"),
            ("unchanged re-ship, in-process", f"{median(unchanged):.3f} s"),
            ("ml-ship ship (CLI, with interpreter start)", f"{median(cli):.3f} s"),
        ])


if __name__ == "__main__":
    main()
