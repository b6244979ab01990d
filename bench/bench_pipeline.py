"""Pipeline scheduling on the local backend: a 20-step graph of width 4 against its critical path.

    .venv/bin/python bench/bench_pipeline.py [--steps 20] [--width 4] [--parallelism 4]
                                             [--singles 3] [--chain 6] [--inprocess] [--cold]
                                             [--sleep S]

Runs start from the local backend's warm runner (the default: it is started and ready before
anything is measured, singles included); ``--cold`` turns it off (ML_SHIP_WARM_RUNNER=0) so
every runner and kernel is a new interpreter, as before the warm runner existed.

1. single-step time: the median of lone ``svc.run`` + ``svc.wait`` of the trivial notebook
   (measured before and after the pipelines, so machine load hits both alike);
2. the layered graph (every step of a layer depends on every step of the layer before: the
   critical path is ``steps / width`` steps), run with ``--no-cache`` through the production path
   (``run_pipeline`` + the detached scheduler process, or ``--inprocess``): wall time against
   critical path × single-step time;
   (times come from the store: run and pipeline end timestamps, not from polling)
3. scheduling overhead per step, three ways: (wall − the critical path through the steps' own
   measured durations) / its length — what the scheduler adds, whatever the machine's load does
   to the steps themselves; a chain of ``--chain`` steps (50) at parallelism 1, (wall − the
   steps' own run times) / chain (issue #26's figure, target ≤ 25 ms) and (wall − chain ×
   single) / chain; and the gap between a step's last upstream ending and its own start.
4. the CPU the graph used, all processes of the machine (``/proc/stat``): a trivial step is
   almost all CPU (runner, kernel start, scheduler), so four at once on two cores cannot take less
   than that CPU over the cores — the floor the wall time is compared to.

``--sleep S`` adds ``time.sleep(S)`` to the notebook: a step that waits (a query, a download)
instead of computing, to show the graph's parallelism when the steps are not CPU-bound.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.runner import _warm


def trivial(path: Path, sleep: float = 0.0) -> Path:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    params = new_code_cell("i = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell("from jupyter_ml_ship import record\nrecord('i', i)")]
    if sleep:
        nb.cells.append(new_code_cell(f"import time\ntime.sleep({sleep})"))
    nbformat.write(nb, str(path))
    return path


def layered(path: Path, name: str, steps: int, width: int) -> Path:
    lines = [f"name: {name}", "steps:"]
    for n in range(steps):
        layer, prev = n // width, [f"s{m}" for m in range(steps) if m // width == n // width - 1]
        lines.append(f"  s{n}:")
        lines.append("    notebook: trivial.ipynb")
        lines.append(f"    parameters: {{i: {n}}}")
        if layer and prev:
            lines.append(f"    depends_on: [{', '.join(prev)}]")
    path.write_text("\n".join(lines) + "\n")
    return path


#: polling here is slow on purpose (it would compete with the steps for the 2 cores); times
#: come from the store's timestamps: the runner's end of a run, the scheduler's end of a pipeline
POLL = 0.25


def busy_cpu() -> float:
    """CPU-seconds the machine has been busy (all processes, all cores), or 0 without /proc."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def single(svc: ShipService, n: int) -> list[float]:
    times = []
    for k in range(n):
        start = datetime.now(timezone.utc)
        info = svc.wait(svc.run("trivial", parameters={"i": 1000 + k}).id, 300, interval=POLL)
        assert info.status == "succeeded", info.error
        times.append((info.ended_at - start).total_seconds())
    return times


def run(svc: ShipService, name: str, parallelism: int, inprocess: bool) -> tuple[float, object]:
    start = datetime.now(timezone.utc)
    info = svc.run_pipeline(name, use_cache=False, parallelism=parallelism, detach=not inprocess)
    if inprocess:
        info = svc.drive_pipeline_run(info.id, timeout=1800)
    else:
        info = svc.wait_pipeline_run(info.id, timeout=1800, interval=POLL)
    assert info.status == "succeeded", info.error
    return (info.ended_at - start).total_seconds(), info


def gaps(info: object) -> list[float]:
    """Seconds from a step's last upstream ending to its own start."""
    steps = {s.id: s for s in info.steps}  # type: ignore[attr-defined]
    out = []
    for s in steps.values():
        if s.depends_on:
            ready = max(steps[d].ended_at for d in s.depends_on)
            out.append((s.started_at - ready).total_seconds())
    return out


def longest_path(info: object) -> tuple[float, int]:
    """The critical path through the steps' own durations (as they ran in this graph), and
    how many steps it has: what a scheduler with zero overhead would have taken."""
    steps = {s.id: s for s in info.steps}  # type: ignore[attr-defined]
    best: dict[str, tuple[float, int]] = {}

    def path(sid: str) -> tuple[float, int]:
        if sid not in best:
            before = max((path(d) for d in steps[sid].depends_on), default=(0.0, 0))
            best[sid] = (before[0] + steps[sid].duration, before[1] + 1)
        return best[sid]

    return max(path(sid) for sid in steps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--width", type=int, default=4)
    ap.add_argument("--parallelism", type=int, default=4)
    ap.add_argument("--singles", type=int, default=3)
    ap.add_argument("--chain", type=int, default=50)
    ap.add_argument("--inprocess", action="store_true",
                    help="schedule in this process instead of the detached scheduler")
    ap.add_argument("--cold", action="store_true",
                    help="no warm runner: every runner and kernel is a new interpreter")
    ap.add_argument("--sleep", type=float, default=0.0,
                    help="each step also sleeps this long (waits instead of computing)")
    args = ap.parse_args()
    if args.cold:
        os.environ["ML_SHIP_WARM_RUNNER"] = "0"  # this process and the detached schedulers
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        trivial(work / "trivial.ipynb", args.sleep)
        svc = ShipService(MlShip(home=str(work / "home"), freeze_environment=False))
        if not args.cold:
            svc.prewarm()
            assert _warm.wait_ready(svc.settings, 60), "the warm runner did not come up"
        svc.ship(work / "trivial.ipynb")
        svc.ship_pipeline(layered(work / "graph.pipeline.yaml", "graph", args.steps, args.width))
        svc.ship_pipeline(layered(work / "chain.pipeline.yaml", "chain", args.chain, 1))
        single(svc, 1)  # warm up: bytecode, page cache

        singles = single(svc, args.singles)
        cpu_before = busy_cpu()
        wall, info = run(svc, "graph", args.parallelism, args.inprocess)
        cpu = busy_cpu() - cpu_before
        cores = os.cpu_count() or 1
        chain_wall, chain = run(svc, "chain", 1, args.inprocess)
        singles += single(svc, args.singles)

        one = statistics.median(singles)
        depth = -(-args.steps // args.width)
        durations = [s.duration for s in info.steps]  # type: ignore[attr-defined]
        all_gaps = gaps(info) + gaps(chain)
        ideal, n_ideal = longest_path(info)
        rows = [
            ("single step (median, s)", f"{one:.2f}  (all: {', '.join(f'{t:.2f}' for t in singles)})"),
            ("step run inside the graph (median, s)", f"{statistics.median(durations):.2f}"),
            (f"graph: {args.steps} steps, width {args.width}, parallelism {args.parallelism}",
             f"{wall:.2f} s wall"),
            (f"critical path ({depth} steps) x single step", f"{depth * one:.2f} s"),
            ("ratio wall / (critical path x single)", f"{wall / (depth * one):.2f}  (target <= 1.3)"),
            ("critical path of the steps' own durations in the graph",
             f"{ideal:.2f} s ({n_ideal} steps): the wall time with zero scheduling overhead"),
            ("scheduling overhead on that path, per step",
             f"{(wall - ideal) / n_ideal * 1000:.0f} ms  (target < 50 ms)"
             + ("" if args.parallelism >= args.width else
                "  [meaningless: parallelism < width makes steps wait for a slot]")),
            ("CPU the graph used (whole machine) / per step",
             f"{cpu:.2f} s / {cpu / args.steps:.3f} s" if cpu else "n/a (no /proc/stat)"),
            (f"CPU floor: that CPU over {cores} cores", f"{cpu / cores:.2f} s"
             + (f"  (wall / floor {wall / (cpu / cores):.2f})" if cpu else "")),
            (f"chain of {args.chain} at parallelism 1", f"{chain_wall:.2f} s wall"),
            ("chain: (wall - the steps' own run times) / chain",
             f"{(chain_wall - sum(s.duration for s in chain.steps)) / args.chain * 1000:.0f} ms"
             "  (target <= 25 ms)"),
            ("chain: (wall - chain x single) / chain",
             f"{(chain_wall - args.chain * one) / args.chain * 1000:.0f} ms  (target < 50 ms)"),
            ("upstream end -> step start (median / max)",
             f"{statistics.median(all_gaps) * 1000:.0f} / {max(all_gaps) * 1000:.0f} ms"),
            ("mode", ("in-process scheduling" if args.inprocess else "detached scheduler process")
             + (", cold runners (no warm runner)" if args.cold else ", warm runner")
             + (f", each step sleeps {args.sleep:g} s" if args.sleep else ", trivial steps")),
            ("load average at the end", " ".join(f"{x:.1f}" for x in os.getloadavg())),
        ]
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"  {k.ljust(width)}  {v}")
        svc.stop_warm_runner()
        svc.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
