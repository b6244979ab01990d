"""A job's run history in the lab, in a real JupyterLab in a real Chromium.

A job shipped in three versions (each scoring differently) with runs of each: the Runs tab's
"Table & chart" opens the chart of the output over runs (a colour per version, the current one
marked) above a sortable, filterable table with the parameters and outputs as columns; a click
on a point opens that run; two selected runs compare side by side (parameters, outputs,
durations, the diff of their notebooks). Light and dark themes. Screenshots in
tests/ui/artifacts/ (the best copied to docs/screenshots/).
"""

from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from tests.ui.conftest import TOKEN, doc_shot, settled
from tests.ui.test_project_ui import PANEL, api, hide_notifications, notebook, post, set_theme

LONG = 150_000


def code(src: str, tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "source": src, "metadata": {"tags": tags or []},
            "outputs": [], "execution_count": None}


def write_version(lab, bonus: float) -> None:
    (lab.root / "scoring.ipynb").write_text(notebook(
        code("lr = 0.1\nepochs = 3", ["parameters"]),
        code("from jupyter_ml_ship import record"),
        code(f"record('accuracy', round(0.6 + lr + {bonus} + epochs / 100, 3))\n"
             "record('rows', 1000 * epochs)"),
    ))


def wait(lab, run_id: str) -> dict:
    deadline = time.monotonic() + 120
    while True:
        run = api(lab, f"/runs/{run_id}")
        if run["status"] in ("succeeded", "failed", "cancelled", "timed_out"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.3)


def test_runs_table_chart_and_compare(page, lab):
    runs = []
    for bonus, lrs in ((0.0, (0.05, 0.1, 0.15)), (0.08, (0.05, 0.1, 0.2)), (0.12, (0.1, 0.15))):
        write_version(lab, bonus)
        post(lab, "/ship", {"path": "scoring.ipynb", "name": "scoring"})
        for i, lr in enumerate(lrs):
            run = post(lab, "/runs", {"job": "scoring", "parameters": {"lr": lr, "epochs": 3 + i}})
            runs.append(wait(lab, run["id"]))
    assert {r["status"] for r in runs} == {"succeeded"}

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    page.locator(PANEL).first.click()
    panel = page.locator(".jp-MlShip-panelBody")
    panel.locator("li[data-job='scoring'] button").first.click()
    panel.get_by_role("button", name="Table & chart").click()
    view = page.locator(".jp-MlShip-history[data-job='scoring']")
    view.wait_for(timeout=30_000)
    hide_notifications(page)
    table = view.locator("table.jp-MlShip-runsTable")
    expect(table.locator("tbody tr")).to_have_count(8)
    headers = [h.strip(" ▾▴") for h in table.locator("thead th").all_inner_texts()]
    assert headers == ["", "Run", "Status", "Version", "Started", "Duration", "epochs", "lr",
                       "accuracy", "rows"]
    # the chart: one dataset per version, the current one marked in the legend
    legend = page.evaluate("""() => document.querySelector('.jp-MlShip-runsChart canvas')
        .mlShipChart.data.datasets.map(d => [d.label, d.data.length])""")
    assert legend == [["v1", 3], ["v2", 3], ["v3 (current)", 2]]
    settled(page)
    page.shot("h01-runs-table-chart")
    readme_shot(page, view, "runs-table.png")

    # sort by accuracy (ascending, then descending): the best run first
    table.locator("thead th", has_text="accuracy").click()
    table.locator("thead th", has_text="accuracy").click()
    best = max(runs, key=lambda r: r["outputs"]["accuracy"])
    expect(table.locator("tbody tr").first).to_have_attribute("data-run", best["id"])
    # filter by version
    view.get_by_label("Filter by version").select_option("1")
    expect(table.locator("tbody tr")).to_have_count(3)
    view.get_by_label("Filter by version").select_option("0")
    # chart of the duration, then back
    view.get_by_label("Chart value").select_option("__duration__")
    view.locator(".jp-MlShip-runsChart[data-metric='__duration__']").wait_for()
    view.get_by_label("Chart value").select_option("accuracy")

    # a click on a point of the chart opens that run
    canvas = view.locator(".jp-MlShip-runsChart canvas")
    box = canvas.bounding_box()
    point = page.evaluate("""() => {
        const canvas = document.querySelector('.jp-MlShip-runsChart canvas');
        const chart = canvas.mlShipChart;
        const meta = chart.getDatasetMeta(2);
        const el = meta.data[0];
        return {x: el.x, y: el.y, run: chart.data.datasets[2].data[0].run.id};
    }""")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.locator(f".jp-MlShip-runBody[data-run='{point['run']}']").wait_for(timeout=30_000)
    # back to the history
    page.locator(".lm-TabBar-tab", has_text="Runs of scoring").click()

    # compare a v1 run with a v3 run
    a, b = runs[1], runs[-1]
    table.locator(f"tr[data-run='{a['id']}'] input[type=checkbox]").check()
    table.locator(f"tr[data-run='{b['id']}'] input[type=checkbox]").check()
    view.get_by_role("button", name="Compare").click()
    cmp = page.locator(".jp-MlShip-compareRuns")
    cmp.wait_for(timeout=30_000)
    acc = cmp.locator("tr[data-name='accuracy']")
    assert acc.locator("td").nth(0).inner_text() == str(a["outputs"]["accuracy"])
    assert acc.locator("td").nth(1).inner_text() == str(b["outputs"]["accuracy"])
    # the notebooks' diff is rendered by nbdime (as for versions); its text beside
    cmp.locator(".jp-Notebook-diff .jp-Cell-diff").first.wait_for(timeout=30_000)
    cmp.get_by_role("button", name="Text").click()
    diff = cmp.locator(".jp-MlShip-textDiff").inner_text()
    assert "0.0" in diff and "0.12" in diff
    cmp.scroll_into_view_if_needed()
    page.shot("h02-compare")
    cmp.screenshot(path=str(_artifact("compare-runs")))

    set_theme(page, "JupyterLab Dark")
    view.locator(".jp-MlShip-historyBar").first.scroll_into_view_if_needed()
    settled(page)
    page.shot("h03-runs-table-dark")
    bg = page.evaluate("getComputedStyle(document.querySelector('.jp-MlShip-historyView'))"
                       ".backgroundColor")
    assert bg != "rgb(255, 255, 255)", bg
    set_theme(page, "JupyterLab Light")


def readme_shot(page, view, name: str) -> None:
    """The README's picture of the Runs tab: its title bar, the chart and the table (not the
    empty tab below), in tests/ui/artifacts/ and docs/screenshots/."""
    bar = page.locator(".jp-MlShip-historyBar").first.bounding_box()
    body = view.bounding_box()
    assert bar and body, (bar, body)
    pad = 10
    clip = {"x": bar["x"] - pad, "y": bar["y"] - pad, "width": bar["width"] + 2 * pad,
            "height": body["y"] + body["height"] - bar["y"] + 2 * pad}
    doc_shot(page, name, clip=clip)


def _artifact(name: str):
    from tests.ui.conftest import ARTIFACTS

    return ARTIFACTS / f"history-{name}.png"


def test_history_route_json(lab):
    h = api(lab, "/jobs/scoring/history")
    assert json.dumps(h)  # the same data the table shows
    assert h["current_version"] == 3
