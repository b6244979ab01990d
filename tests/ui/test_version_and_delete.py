"""Issue 13, the rest of items 5 and 9, in a real JupyterLab in a real Chromium: a version's
notebook opens read-only from the Versions tab, and a run is deleted from the lab.

Screenshots: tests/ui/artifacts/ (the best in docs/screenshots/).
"""

from __future__ import annotations

import urllib.error

from tests.ui.conftest import set_theme, settled
from tests.ui.test_lab_fixes import (
    keep,
    open_lab,
    open_panel,
    open_run_from_panel,
    wait_run,
    write_notebook,
)
from tests.ui.test_lab_flow import api, post


def test_a_version_opens_read_only_with_its_own_content(page, lab):
    write_notebook(lab.root / "versioned.ipynb", "print('content of v1')", params="n = 1")
    post(lab, "/ship", {"path": "versioned.ipynb", "name": "versioned", "message": "first"})
    write_notebook(lab.root / "versioned.ipynb", "print('content of v2')", params="n = 1")
    post(lab, "/ship", {"path": "versioned.ipynb", "name": "versioned", "message": "second"})
    assert api(lab, "/jobs/versioned")["current_version"] == 2

    open_lab(page, lab)
    panel = open_panel(page)
    panel.get_by_text("versioned", exact=True).first.click()
    panel.get_by_role("tab", name="Versions (2)").click()
    panel.get_by_role("button", name="Open v1").click()

    notebook = page.locator(".jp-NotebookPanel.jp-MlShip-outputNotebook")
    cell = notebook.locator(".jp-Cell").filter(has_text="content of v1").first
    cell.wait_for(timeout=30_000)
    assert notebook.locator(".jp-Cell").filter(has_text="content of v2").count() == 0
    banner = notebook.locator(".jp-MlShip-outputBanner[data-stored='version']")
    assert banner.get_attribute("data-version") == "1"
    text = banner.inner_text()
    assert "read-only" in text.lower() and "Version v1 of versioned as shipped" in text, text
    assert page.locator(".lm-TabBar-tab.lm-mod-current", has_text="versioned-v1.ipynb").count() == 1
    # nothing to save: the tab shows no unsaved-changes dot
    tab = page.locator(".lm-TabBar-tab", has_text="versioned-v1.ipynb")
    page.wait_for_timeout(500)
    assert "jp-mod-dirty" not in (tab.get_attribute("class") or "")
    page.shot("version-opened")
    # no Ship button on it, cells do not take typing, Ctrl+S explains
    assert notebook.locator(".jp-MlShip-shipButton").count() == 0
    cell.locator(".cm-content").click()
    page.keyboard.type("XYZ")
    assert "XYZ" not in cell.inner_text()
    page.keyboard.press("Control+s")
    toast = page.locator(".Toastify__toast").filter(has_text="Version v1 of versioned is read-only")
    toast.first.wait_for(timeout=30_000)
    assert "MlShipOutput:" not in toast.first.inner_text()
    settled(page)  # the toast has slid in
    keep(page, "version-read-only")
    set_theme(page, "JupyterLab Dark")
    keep(page, "version-read-only-dark")
    set_theme(page, "JupyterLab Light")

    # the version in the banner leads back to it in the panel
    banner.get_by_role("button", name="v1").click()
    panel.locator("li[data-version='1'].jp-mod-focused").wait_for(timeout=30_000)


def test_a_run_is_deleted_from_the_run_view_and_leaves_the_list(page, lab):
    write_notebook(lab.root / "deleteme.ipynb", "print('run to delete')")
    first = post(lab, "/ship", {"path": "deleteme.ipynb", "name": "deleteme", "run": True})["run"]
    wait_run(lab, first["id"])
    second = post(lab, "/runs", {"job": "deleteme"})
    wait_run(lab, second["id"])

    open_lab(page, lab)
    open_run_from_panel(page, lab, "deleteme", second["id"])
    runs = page.locator(".jp-MlShip-panelBody .jp-MlShip-runs")
    runs.locator(f"li[data-run='{second['id']}']").wait_for()
    view = page.locator(".jp-MlShip-runWidget:visible")
    delete = view.locator(".jp-Toolbar .jp-MlShip-deleteRun").first
    delete.locator("button").first.click()
    dialog = page.locator(".jp-Dialog")
    assert f"Delete run {second['id'][-6:]}?" in dialog.inner_text()
    assert "The job, its versions and its other runs stay" in dialog.inner_text()
    keep(page, "run-delete-confirm")
    dialog.get_by_role("button", name="Delete run").click()
    page.locator(".Toastify__toast").filter(
        has_text=f"Deleted run {second['id'][-6:]} of deleteme").wait_for(timeout=30_000)
    # gone from the job's runs in the panel, the other run stays; the run view closed
    runs.locator(f"li[data-run='{second['id']}']").wait_for(state="detached", timeout=30_000)
    runs.locator(f"li[data-run='{first['id']}']").wait_for()
    page.locator(f".jp-MlShip-runBody[data-run='{second['id']}']").wait_for(
        state="detached", timeout=30_000)
    # and on the server
    try:
        api(lab, f"/runs/{second['id']}")
        raise AssertionError("the deleted run is still served")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
    listed = [r["id"] for r in api(lab, "/runs")["runs"] if r["job"] == "deleteme"]
    assert listed == [first["id"]]
    # the job's History tab says who deleted which run
    panel = open_panel(page)
    panel.get_by_role("tab", name="History").click()
    entry = panel.locator(".jp-MlShip-audit-item[data-kind='delete-run']")
    entry.wait_for(timeout=30_000)
    assert f"deleted the run #{second['id'][-6:]} (v1)" in entry.inner_text()
    page.shot("run-deleted")
