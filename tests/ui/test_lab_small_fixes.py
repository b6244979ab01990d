"""The smaller but visible lab fixes (#24 item 5), on the realistic layout: ``notebooks/train.ipynb``
importing ``src/features.py`` and reading ``../data/loans.csv``, shipped from its project folder.

The job ``loans-small``: v1 (parameter ``strict``) ran once with ``strict=False`` (succeeded) and
then with ``strict=True`` (failed); v2 adds the parameter ``limit`` and a schedule. Screenshots in
docs/screenshots/small-*.png (light and dark, 1440 and 900 px wide).
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.python.conftest import make_notebook
from tests.python.test_project_layout import make_layout
from tests.ui.conftest import (
    TOKEN,
    Lab,
    doc_shot,
    set_theme,
    settled,
    wait_until_resolved,
)
from tests.ui.test_lab_fixes import open_panel, wait_run
from tests.ui.test_lab_flow import LONG, post
from tests.ui.test_project_ui import hide_notifications

JOB = "loans-small"
NB = "smallfix/notebooks/train.ipynb"
CODE = ('import sys\nsys.path.insert(0, "..")\nfrom src.features import ratio\nimport csv\n'
        "rows = list(csv.DictReader(open('../data/loans.csv')))\n"
        "print('loans', len(rows), 'paid share', ratio(rows, strict))")


def delete(lab: Lab, path: str) -> None:
    request = urllib.request.Request(lab.api(path), method="DELETE")
    with urllib.request.urlopen(request, timeout=30) as r:
        assert r.status in (200, 204), r.status


@pytest.fixture(scope="module")
def loans(lab: Lab) -> Iterator[dict]:
    make_layout(lab.root / "smallfix")
    post(lab, "/ship", {"path": NB, "name": JOB, "config": {"root": ".."}})
    ok = wait_run(lab, post(lab, "/runs", {"job": JOB, "parameters": {"strict": False}})["id"])
    bad = wait_run(lab, post(lab, "/runs", {"job": JOB, "parameters": {"strict": True}})["id"])
    assert (ok["status"], bad["status"]) == ("succeeded", "failed"), (ok, bad)
    # v2: one more parameter, a schedule
    make_notebook(lab.root / NB, CODE + "\nprint('limit', limit)", params="strict = False\nlimit = 3")
    post(lab, "/ship", {"path": NB, "name": JOB, "message": "a limit",
                        "config": {"root": "..", "schedule": "0 6 * * *"}})
    yield {"ok": ok, "bad": bad}


def lab_at(page, lab: Lab, width: int = 1440, query: str = "&reset") -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{lab.url}lab?token={TOKEN}{query}")
    page.locator(".jp-DirListing-item").first.wait_for(timeout=90_000)


def select_job(page):
    panel = open_panel(page)
    panel.locator(f"li[data-job='{JOB}'] button").first.click()
    return panel


def test_the_run_dialog_starts_from_the_last_successful_run(page, lab, loans):
    lab_at(page, lab)
    panel = select_job(page)
    panel.locator(".jp-MlShip-runButton").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".jp-MlShip-runForm").wait_for()
    hint = dialog.locator(".jp-MlShip-initialFrom")
    # the newest run failed (strict=True): the dialog starts from the one that succeeded
    expect(hint).to_contain_text(f"run #{loans['ok']['id'][-6:]} (v1")
    assert loans["bad"]["id"][-6:] not in hint.inner_text()
    assert not dialog.locator("#jp-MlShip-param-strict").is_checked()  # strict=False
    settled(page)
    doc_shot(dialog.locator(".jp-Dialog-content"), "small-run-dialog.png")
    page.keyboard.press("Escape")


def test_the_jobs_list_status_names_the_version_that_ran(page, lab, loans):
    lab_at(page, lab)
    panel = open_panel(page)
    chip = panel.locator(f"li[data-job='{JOB}'] .jp-MlShip-status")
    # the current version is v2, the last run was v1's
    expect(chip).to_have_text("failed · v1")
    assert chip.get_attribute("data-version") == "1"
    hide_notifications(page)
    settled(page)
    doc_shot(panel.locator(f"li[data-job='{JOB}']"), "small-jobs-status.png")


def test_the_runs_table_fits_a_split_pane_updates_live_and_explains_blank_cells(page, lab, loans):
    lab_at(page, lab, width=900)
    panel = select_job(page)
    panel.get_by_role("button", name="Table & chart").click()
    view = page.locator(f".jp-MlShip-history[data-job='{JOB}']")
    view.wait_for(timeout=30_000)
    hide_notifications(page)
    table = view.locator("table.jp-MlShip-runsTable")
    expect(table.locator("tbody tr")).to_have_count(2)
    # a run of v2 ends while the table is open: its row appears, no Refresh pressed
    run = post(lab, "/runs", {"job": JOB})
    expect(table.locator(f"tr[data-run='{run['id']}']")).to_be_visible(timeout=LONG)
    assert wait_run(lab, run["id"])["status"] == "succeeded"
    # blank cells: v2 had `limit` (its default was used), v1 did not have it
    cols = [h.strip(" ▾▴") for h in table.locator("thead th").all_inner_texts()]
    limit = cols.index("limit")
    row2 = table.locator(f"tr[data-run='{run['id']}'] td").nth(limit)
    expect(row2).to_have_text("default")
    row1 = table.locator(f"tr[data-run='{loans['ok']['id']}'] td").nth(limit)
    expect(row1).to_have_text("not a parameter then")
    # the pane is narrow: the table scrolls sideways inside its own box, the last column reachable
    wrap = view.locator(".jp-MlShip-tableWrap")
    view_box, wrap_box = page.locator(".jp-MlShip-historyView").bounding_box(), wrap.bounding_box()
    assert wrap_box["x"] + wrap_box["width"] <= view_box["x"] + view_box["width"] + 1
    last = table.locator("thead th").last
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    assert box["x"] + box["width"] <= wrap_box["x"] + wrap_box["width"] + 1, (box, wrap_box)
    settled(page)
    doc_shot(view, "small-runs-table-900.png")

    # two runs compared: the notebooks' diff rendered by nbdime, as versions are
    table.locator(f"tr[data-run='{loans['ok']['id']}'] input[type=checkbox]").check()
    table.locator(f"tr[data-run='{run['id']}'] input[type=checkbox]").check()
    view.get_by_role("button", name="Compare").click()
    cmp = page.locator(".jp-MlShip-compareRuns")
    cmp.locator(".jp-Notebook-diff .jp-Cell-diff").first.wait_for(timeout=30_000)
    assert "Cell ID: undefined" not in cmp.inner_text()
    cmp.get_by_role("button", name="Text").click()
    expect(cmp.locator(".jp-MlShip-textDiff")).to_contain_text("limit")
    cmp.get_by_role("button", name="Cells").click()
    cmp.locator(".jp-Notebook-diff").wait_for()
    set_theme(page, "JupyterLab Dark")
    hide_notifications(page)
    cmp.scroll_into_view_if_needed()
    settled(page)
    doc_shot(cmp, "small-compare-runs-dark.png")
    set_theme(page, "JupyterLab Light")


def test_a_version_compare_shows_settings_and_the_files_say_where(page, lab, loans):
    lab_at(page, lab)
    panel = select_job(page)
    panel.locator(".jp-MlShip-tab").get_by_text(re.compile(r"^Versions")).click()
    panel.locator(".jp-MlShip-versions li[data-version='2']").wait_for()
    files = panel.locator(".jp-MlShip-versions li[data-version='2'] .jp-MlShip-filesToggle")
    # the files shipped with the notebook come from the project folder, said by its path
    expect(files).to_contain_text("from smallfix/")
    assert "beside the notebook" not in files.inner_text()
    panel.get_by_label("Select v1 to compare").check()
    panel.get_by_label("Select v2 to compare").check()
    panel.locator(".jp-MlShip-compareSelected").click()
    compare = page.locator(".jp-MlShip-compare").last
    compare.locator(".jp-MlShip-compareHeader[data-a='1'][data-b='2']").wait_for(timeout=30_000)
    schedule = compare.locator(".jp-MlShip-compareConfig tr[data-setting='schedule']")
    expect(schedule.locator("td").nth(1)).to_have_text("—")
    expect(schedule.locator("td").nth(2)).to_have_text("0 6 * * *")
    compare.locator(".jp-Notebook-diff .jp-Cell-diff").first.wait_for(timeout=30_000)
    assert "Cell ID: undefined" not in compare.inner_text()
    hide_notifications(page)
    settled(page)
    doc_shot(compare, "small-compare-versions.png")
    set_theme(page, "JupyterLab Dark")
    settled(page)
    doc_shot(compare, "small-compare-versions-dark.png")
    set_theme(page, "JupyterLab Light")


def test_at_900_px_the_ship_button_and_the_agent_status_fit(page, lab, loans):
    page.set_viewport_size({"width": 900, "height": 800})
    page.goto(f"{lab.url}lab/tree/{NB}?token={TOKEN}&reset")
    page.locator(".jp-NotebookPanel-toolbar").first.wait_for(timeout=90_000)
    panel = open_panel(page)
    ship = page.locator(".jp-NotebookPanel-toolbar .jp-MlShip-shipButton").first
    expect(ship).to_be_visible()
    box, bar = ship.bounding_box(), page.locator(".jp-NotebookPanel-toolbar").first.bounding_box()
    assert box["x"] + box["width"] <= bar["x"] + bar["width"] + 1, (box, bar)
    # the agent status: one row, the whole sentence in its tooltip
    line = panel.locator(".jp-MlShip-agentStatus-line")
    line.wait_for(timeout=30_000)
    height = line.bounding_box()["height"]
    row = line.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 18")
    assert height <= row * 1.5, (height, row)
    assert "this Jupyter server" in line.inner_text()
    hide_notifications(page)
    settled(page)
    doc_shot(page, "small-900px.png")
    set_theme(page, "JupyterLab Dark")
    settled(page)
    doc_shot(page, "small-900px-dark.png")
    set_theme(page, "JupyterLab Light")


def test_a_restored_output_tab_whose_run_is_gone_explains(page, lab, loans):
    run = wait_run(lab, post(lab, "/runs", {"job": JOB})["id"])
    lab_at(page, lab)
    panel = select_job(page)
    panel.locator(f".jp-MlShip-runs li[data-run='{run['id']}'] button").first.click()
    page.locator(f".jp-MlShip-runBody[data-run='{run['id']}']").wait_for(timeout=LONG)
    page.locator(".jp-Toolbar .jp-ToolbarButtonComponent", has_text="Open output").first.click()
    page.locator(".jp-MlShip-outputBanner[data-stored='output']").wait_for(timeout=30_000)
    # the layout is saved; the run is deleted; the lab is opened again (restored, no reset).
    # The tab must be in the saved main-area layout (saved apart from the notebooks' tracker
    # data, about a second later), awaited in the page: page.wait_for_function took the fetch's
    # Promise for a true answer at once, the lab was left before it had saved the tab, and the
    # reopened lab restored no tab (the empty main area it then saved looked like the cause)
    wait_until_resolved(
        page,
        "id => fetch('/lab/api/workspaces').then(r => r.json()).then(j => {"
        " const all = (j.workspaces && j.workspaces.values) || j.values || [j];"
        " return all.some(w => JSON.stringify(((w.data || {})['layout-restorer:data'] || {}).main"
        " || {}).includes('MlShipOutput:' + id)); })", arg=run["id"])
    # the output tab is the current one: the lab's URL names it (/lab/tree/MlShipOutput:…), and
    # opening that URL hands the path to the router (before the fix: "Cannot open … 'model'")
    expect(page).to_have_url(re.compile(r"/lab/tree/MlShipOutput(:|%3A)"))
    # the lab is left (an open lab closes the tabs of a run deleted elsewhere), the run is
    # deleted, and the lab is opened again at the same URL: the same workspace, restored
    url = page.url
    page.goto("about:blank")
    delete(lab, f"/runs/{run['id']}")
    page.goto(url)
    gone = page.locator(f".jp-MlShip-storedGone[data-gone='{run['id']}']")
    gone.wait_for(timeout=90_000)
    expect(gone).to_contain_text("no longer exists")
    # the lab has settled (its kernel list loaded): no modal at all, no kernel started for it
    kernel = page.locator(".jp-MlShip-outputNotebook .jp-Toolbar-kernelName").first
    expect(kernel).to_have_text("No Kernel")
    settled(page)
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").all_inner_texts()
    with urllib.request.urlopen(f"{lab.url}api/sessions?token={TOKEN}", timeout=10) as r:
        sessions = [s["path"] for s in json.load(r)]
    assert not [p for p in sessions if p.startswith("MlShipOutput:")], sessions
    # the tab's one cell says it too (drawn: under load the shot came before its text)
    expect(page.locator(".jp-MlShip-outputNotebook .jp-Cell").first).to_contain_text(
        "no longer exists")
    settled(page)
    doc_shot(page.locator(".jp-MlShip-outputNotebook").first, "small-output-gone.png")
    gone.get_by_role("button", name="Close this tab").click()
    expect(gone).to_have_count(0)
    assert page.locator(".jp-Dialog", has_text="File Load Error").count() == 0

