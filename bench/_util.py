"""Small helpers shared by the benchmarks: timing in rotating rounds, medians, ratios, the
machine's load, a results table, a parameterized notebook; a free port and a wait on a condition
(the tests' own, tests/python/waits.py)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

sys.path.insert(0, str(REPO))
from tests.python.waits import free_port, until  # noqa: E402,F401  (the benchmarks' too)

#: a command and its environment (None: this process's)
Command = tuple[list[str], dict[str, str] | None]

KERNELS = {"python3": ("Python 3", "python"), "ir": ("R", "R")}


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def rotating_times(commands: Mapping[str, Command | Callable[[int], Command]], rounds: int,
                   warm_up: bool = True) -> dict[str, list[float]]:
    """Wall times of each command over ``rounds`` rounds, in an order that rotates each round so
    that the machine's load hits all alike. A command given as a function of the round's number
    is made anew each round (a parameter that changes). ``warm_up``: each runs once untimed
    first (page cache, bytecode)."""

    def command(name: str, i: int) -> Command:
        made = commands[name]
        return made(i) if callable(made) else made

    names = list(commands)
    if warm_up:
        for name in names:
            timed(*command(name, 0))
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            times[name].append(timed(*command(name, i)))
    return times


def rotating(commands: Mapping[str, Command | Callable[[int], Command]], rounds: int
             ) -> dict[str, float]:
    """The median wall time of each command, timed as ``rotating_times`` does."""
    return {n: median(t) for n, t in rotating_times(commands, rounds).items()}


def ratio(ours: float, theirs: float, target: str = "") -> str:
    """``ours / theirs`` with two decimals, the target after it (``"<= 1.3"``) when there is one."""
    return f"{ours / theirs:.2f}" + (f"  (target {target})" if target else "")


def load() -> str:
    """The machine's load, printed beside the figures: a ratio taken on a busy machine says so."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def report(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k.ljust(width)}  {v}")


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env.update(extra)
    return env


def notebook(path: Path, code: str, params: str = "n = 1", kernel: str = "python3") -> Path:
    """A notebook of a ``parameters`` cell and one cell of code, in ``kernel`` (python3, ir)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    display, language = KERNELS[kernel]
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = new_notebook(metadata={"kernelspec": {"name": kernel, "display_name": display,
                                               "language": language}})
    cell = new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, new_code_cell(code)]
    nbformat.write(nb, str(path))
    return path


def ours_vs_papermill(nb: Path, job: str, home: Path, rounds: int) -> dict[str, float]:
    """``ml-ship run JOB --wait`` (local backend) of ``nb`` shipped as ``job``, cold
    (ML_SHIP_WARM_RUNNER=0: new runner and kernel interpreters, what a lone CLI call gets) and
    with the warm runner up (as the Jupyter server keeps it), against the ``papermill`` CLI on the
    same notebook: the median of each (cold, warm, papermill), in rotating rounds."""
    from jupyter_ml_ship.config import MlShip
    from jupyter_ml_ship.core import ShipService
    from jupyter_ml_ship.runner import _warm

    env = env_with(ML_SHIP_HOME=str(home))
    cold_env = env_with(ML_SHIP_HOME=str(home), ML_SHIP_WARM_RUNNER="0")
    timed([str(BIN / "ml-ship"), "ship", str(nb), "--name", job], env)
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    svc.prewarm()  # as the Jupyter server does when it starts
    try:
        assert _warm.wait_ready(svc.settings, 60), "the warm runner did not come up"

        def ours(run_env: dict[str, str]) -> Callable[[int], Command]:
            return lambda i: ([str(BIN / "ml-ship"), "run", job, "--wait", "-p", "n", str(i)],
                              run_env)

        return rotating({
            "cold": ours(cold_env),
            "warm": ours(env),
            "papermill": lambda i: ([str(BIN / "papermill"), "-p", "n", str(i), str(nb),
                                     str(home.parent / "papermill-out.ipynb")], env),
        }, rounds)
    finally:
        svc.stop_warm_runner()
        svc.close()


def papermill_rows(medians: dict[str, float], cold_target: str = "", warm_target: str = ""
                   ) -> list[tuple[str, str]]:
    """``ours_vs_papermill``'s medians and ratios (with their targets), rows for ``report``."""
    t = medians
    return [
        ("ml-ship run --wait (local, cold)", f"{t['cold']:.3f} s"),
        ("ml-ship run --wait (local, warm runner up)", f"{t['warm']:.3f} s"),
        ("papermill CLI", f"{t['papermill']:.3f} s"),
        ("ratio ours cold / papermill", ratio(t["cold"], t["papermill"], cold_target)),
        ("ratio ours warm / papermill", ratio(t["warm"], t["papermill"], warm_target)),
    ]
