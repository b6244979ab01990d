"""Run history and notifications: figures for issue 14.

1. run end → webhook received, with a loop doing what the server's reconcile loop does every
   ``reconcile_interval`` (reconcile active runs, then ``deliver_pending``); target < 1 s.
2. the runs table of a job with 5,000 runs: ``run_history_json`` (what GET
   /jobs/{name}/history does), after a write (the rows that did not change remembered), on a
   server's first ask, and with the store unchanged; target <= 40 ms after a write.
3. the same 5,000 runs in the browser: a real JupyterLab on that store, the job's Runs tab
   opened as "Table & chart" in a real Chromium (Playwright); the view's own figure (fetch to
   first paint of chart and table, ``data-ml-ship-history-ms`` on document.body), median of a
   few fresh page loads; target < 500 ms. Skipped without Chromium or Playwright.

    .venv/bin/python bench/bench_history.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_ml_ship.config import MlShip  # noqa: E402
from jupyter_ml_ship.core import ShipService  # noqa: E402
from jupyter_ml_ship.core._history_rows import RowMemo  # noqa: E402
from jupyter_ml_ship.core.history import _KEPT, _built, run_history_json  # noqa: E402
from jupyter_ml_ship.core.notifications import deliver_pending  # noqa: E402
from jupyter_ml_ship.store import Run  # noqa: E402
from jupyter_ml_ship.store.schema import utcnow  # noqa: E402
from tests.python.conftest import make_notebook  # noqa: E402
from tests.python.notify_harness import Receiver  # noqa: E402


def webhook_latency(tmp: Path, runs: int = 5) -> list[float]:
    rec = Receiver()
    os.environ["BENCH_HOOK"] = rec.url
    svc = ShipService(MlShip(home=str(tmp / "home"), freeze_environment=False))
    nb = make_notebook(tmp / "quick.ipynb", "print('hi')", metadata={"ml_ship": {
        "notify": {"on": ["succeeded"], "webhook": "BENCH_HOOK"}}})
    svc.ship(nb)
    stop = threading.Event()

    def loop() -> None:  # the server's reconcile loop: every reconcile_interval (1 s)
        while not stop.is_set():
            for run_id in svc.active_run_ids():
                svc.get_run(run_id)
            deliver_pending(svc)
            stop.wait(svc.settings.reconcile_interval / 1000)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    out = []
    for _ in range(runs):
        before = len(rec.posts)
        run_id = svc.run("quick").id
        result = svc.home / "runs" / run_id / "result.json"
        while not result.exists():
            time.sleep(0.005)
        ended = time.monotonic()  # the runner wrote its result: the run ended
        while len(rec.posts) == before:
            time.sleep(0.005)
        out.append(rec.times[-1] - ended)
    stop.set()
    thread.join()
    svc.close()
    rec.stop()
    return out


def seed_5000(home: Path, tmp: Path) -> ShipService:
    """A store at ``home`` with a job ``train`` of 5,000 finished runs."""
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    nb = make_notebook(tmp / "train.ipynb", "print(1)", params="lr = 0.1\nepochs = 3")
    svc.ship(nb)
    job, version = svc.job("train"), svc.version("train")
    with svc.store.session() as s:
        from jupyter_ml_ship.store import Job, Version

        j = s.query(Job).filter_by(name=job.name).one()
        v = s.query(Version).filter_by(job_id=j.id, number=version.number).one()
        t0 = utcnow() - timedelta(days=30)
        for i in range(5000):
            at = t0 + timedelta(minutes=8 * i)
            s.add(Run(id=f"{i:011x}{'ab' * 3}", job_id=j.id, version_id=v.id, version_number=1,
                      backend="local", status="succeeded" if i % 17 else "failed",
                      parameters={"lr": 0.1 + i % 5 / 10, "epochs": 3}, attempts=1,
                      max_attempts=1, created_at=at, started_at=at,
                      ended_at=at + timedelta(seconds=30 + i % 7),
                      outputs={"accuracy": 0.8 + (i % 13) / 100, "rows": 1000 + i,
                               "model": "gbm"}, run_dir=str(tmp / "x"), backend_ref={}))
    return svc


def history_5000(tmp: Path) -> list[float]:
    """GET /jobs/{name}/history's body for 5,000 runs, three ways interleaved in one run, wall
    and CPU time (the CPU time stands for a quiet machine): ``run_history_json`` after a write
    to the store (one run's health changed between calls: the JSON written by SQLite), the same
    with the store unchanged since the last call (the body kept: what the lab's repeated asks
    get), and the RunHistory objects dumped (before #26, ``_built``)."""
    from sqlalchemy import update

    svc = seed_5000(tmp / "home5k", tmp)
    wall: dict[str, list[float]] = {"changed": [], "first": [], "unchanged": [], "old": []}
    cpu: dict[str, list[float]] = {k: [] for k in wall}

    def timed(kind: str, call: Any) -> Any:
        t, c = time.perf_counter(), time.process_time()
        out = call()
        wall[kind].append(time.perf_counter() - t)
        cpu[kind].append(time.process_time() - c)
        return out

    for i in range(10):
        with svc.store.session() as s:  # a write: the kept body is stale
            s.execute(update(Run).where(Run.id == f"{i:011x}{'ab' * 3}")
                      .values(health="degraded"))
        body = timed("changed", lambda: run_history_json(svc, "train", limit=5000))
        again = timed("unchanged", lambda: run_history_json(svc, "train", limit=5000))
        assert again == body
        with svc.store.session() as s:  # another write, and nothing remembered (a new server)
            s.execute(update(Run).where(Run.id == f"{i + 100:011x}{'ab' * 3}")
                      .values(health="degraded"))
        _KEPT[svc.store].memo = RowMemo()  # type: ignore[union-attr]
        first = timed("first", lambda: run_history_json(svc, "train", limit=5000))
        assert first != body
        timed("old", lambda: _built(svc, "train", limit=5000).model_dump_json())
    print(f"  (5,000 runs: {len(body) / 1e6:.2f} MB of JSON; load {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs)")
    w = {k: statistics.median(v) * 1000 for k, v in wall.items()}
    c = {k: statistics.median(v) * 1000 for k, v in cpu.items()}
    for kind, label in (("old", "RunHistory objects + model_dump_json (before #26)"),
                        ("first", "store-written JSON, nothing remembered (a server's first ask)"),
                        ("changed", "after a write (the rows that did not change remembered)"),
                        ("unchanged", "store unchanged since the last ask (kept body)")):
        print(f"  {label}: median {w[kind]:.1f} ms wall, {c[kind]:.2f} ms CPU; vs before "
              f"{w[kind] / w['old']:.2f} wall, {c[kind] / c['old']:.3f} CPU")
    svc.close()
    return wall["changed"]


def browser_render(tmp: Path, loads: int = 5) -> list[float] | None:
    """ms from the Runs tab's fetch to the first paint of chart + table, per fresh page load."""
    from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, TOKEN, run_lab

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  (no playwright: browser render time skipped)")
        return None
    if not os.path.exists(CHROMIUM):
        print(f"  ({CHROMIUM} not found: browser render time skipped)")
        return None
    base = tmp / "lab5k"
    base.mkdir()
    seed_5000(base / "home", tmp).close()
    out: list[float] = []
    with run_lab(base) as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(120_000)
        for i in range(loads + 1):  # the first load warms caches (bundles, the store): not counted
            page.goto(f"{lab.url}lab?token={TOKEN}&reset")
            panel = page.locator(".jp-MlShip-panelBody")
            if not panel.is_visible():
                page.locator(".jp-SideBar [data-id='jp-ml-ship-panel'], "
                             ".jp-SideBar li[title*='ML Ship']").first.click()
            panel.locator("li[data-job='train'] button").first.click()
            panel.get_by_role("button", name="Table & chart").click()
            page.locator(".jp-MlShip-history[data-job='train'] table tbody tr").first.wait_for()
            page.wait_for_function("() => document.body.dataset.mlShipHistoryMs")
            ms = float(page.evaluate("() => document.body.dataset.mlShipHistoryMs"))
            rows = page.locator(".jp-MlShip-history tbody tr").count()
            if i:
                out.append(ms)
            print(f"  load {i}{' (warm-up)' if not i else ''}: {ms:.0f} ms ({rows} rows shown)")
        browser.close()
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        lat = webhook_latency(tmp)
        print(f"run end → webhook received (loop every 1 s): median {statistics.median(lat):.3f} s,"
              f" max {max(lat):.3f} s over {len(lat)} runs (target < 1 s)")
        h = history_5000(tmp)
        print(f"runs table, 5,000 runs (GET /jobs/{{name}}/history's body, after a write): median "
              f"{statistics.median(h) * 1000:.1f} ms, min {min(h) * 1000:.1f} ms (target ≤ 40 ms)")
        ms = browser_render(tmp)
        if ms:
            med = statistics.median(ms)
            print(f"runs table + chart, 5,000 runs, in Chromium (fetch → first paint): median "
                  f"{med:.0f} ms, max {max(ms):.0f} ms over {len(ms)} loads (target < 500 ms: "
                  f"{med / 500:.2f}× the target)")


if __name__ == "__main__":
    main()
