"""Drift check cost: a 100,000 x 20 data set against its reference (issue 22, part B).

Our ``core.checks.drift.compare`` (column triage, Evidently's DataDriftPreset with its tests,
the per-column results, the HTML report) against calling Evidently directly on the same frames
in the same process: ``Report([DataDriftPreset()]).run(current, reference)`` and, for the same
work as ours, its ``save_html``. Evidently is imported before any timing; the two are
interleaved, after one warm-up each; target: ours <= 1.2 x direct. On a loaded machine (the load
is printed) wall times swing by 2-3x from one call to the next: the best of N and the CPU time
of the process (all its threads) are the steadier figures.

    .venv/bin/python bench/bench_drift.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from jupyter_ml_ship.core.checks.drift import compare  # noqa: E402

COLUMNS = 20


def frames(rows: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """12 numbers, 4 categories (text), 4 small integers (categories for Evidently); the
    current data has two shifted columns (num_0 and cat_0)."""
    rng = np.random.default_rng(seed)

    def one(shift: bool) -> pd.DataFrame:
        data: dict[str, object] = {}
        for i in range(12):
            data[f"num_{i}"] = rng.normal(i + (1.0 if shift and i == 0 else 0.0), 1 + i / 10, rows)
        for i in range(4):
            p = [0.1, 0.2, 0.3, 0.4] if shift and i == 0 else [0.4, 0.3, 0.2, 0.1]
            data[f"cat_{i}"] = rng.choice(["a", "b", "c", "d"], rows, p=p)
        for i in range(4):
            data[f"int_{i}"] = rng.integers(0, 5, rows)
        return pd.DataFrame(data)

    return one(False), one(True)


Timing = tuple[float, float]  # wall, CPU seconds


def direct(reference: pd.DataFrame, current: pd.DataFrame, html: Path | None) -> Timing:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()]).run(current, reference)
        if html is not None:
            snapshot.save_html(str(html))
    return time.perf_counter() - start, time.process_time() - cpu


def ours(reference: pd.DataFrame, current: pd.DataFrame, html: Path) -> tuple[Timing, int]:
    start, cpu = time.perf_counter(), time.process_time()
    got = compare(reference, current, html)
    return (time.perf_counter() - start, time.process_time() - cpu), len(got.drifted)


def _fmt(xs: list[Timing]) -> str:
    wall = [w for w, _ in xs]
    cpu = [c for _, c in xs]
    return (f"wall median {statistics.median(wall):.2f} s, best {min(wall):.2f} s; "
            f"CPU median {statistics.median(cpu):.2f} s  (wall {sorted(round(w, 1) for w in wall)})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    t0 = time.perf_counter()
    import evidently  # noqa: F401  (its import is paid once per process, not per check)

    imported = time.perf_counter() - t0
    reference, current = frames(args.rows)
    assert reference.shape == (args.rows, COLUMNS)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        html_direct, html_ours = Path(tmp) / "direct.html", Path(tmp) / "ours.html"
        direct(reference, current, html_direct)  # warm-up: first-call caches on both sides
        ours(reference, current, html_ours)
        d_run: list[Timing] = []
        d_html: list[Timing] = []
        o_all: list[Timing] = []
        drifted = 0
        for _ in range(args.repeat):
            d_run.append(direct(reference, current, None))
            d_html.append(direct(reference, current, html_direct))
            t, drifted = ours(reference, current, html_ours)
            o_all.append(t)
        size = html_ours.stat().st_size
    load_after = os.getloadavg()

    def ratio(a: list[Timing], b: list[Timing]) -> str:
        med = statistics.median
        return (f"best wall {min(x for x, _ in a) / min(x for x, _ in b):.2f} x, "
                f"median wall {med([x for x, _ in a]) / med([x for x, _ in b]):.2f} x, "
                f"median CPU {med([c for _, c in a]) / med([c for _, c in b]):.2f} x")
    print(f"drift of {args.rows:,} x {COLUMNS} against its reference "
          f"({args.repeat} of each, interleaved, after one warm-up)")
    rows = [
        ("evidently import (once per process)", f"{imported:.2f} s"),
        ("Evidently direct: Report.run", _fmt(d_run)),
        ("Evidently direct: run + save_html", _fmt(d_html)),
        ("ours: compare() with its HTML report", _fmt(o_all)),
        ("ours / (run + save_html)", ratio(o_all, d_html) + "  (target <= 1.2)"),
        ("ours / run alone", ratio(o_all, d_run)),
        ("columns flagged (2 shifted)", str(drifted)),
        ("HTML report", f"{size / 1e6:.1f} MB"),
        ("machine load (1/5/15 min) before", " ".join(f"{x:.2f}" for x in load_before)),
        ("machine load after", " ".join(f"{x:.2f}" for x in load_after)),
        ("cores", str(os.cpu_count())),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k.ljust(width)}  {v}")


if __name__ == "__main__":
    main()
