"""The lab as a user meets it (issue 13): each test is one thing a person tripped on.

Screenshots in the light and dark themes: tests/ui/artifacts/ (the best in docs/screenshots/).
"""

from __future__ import annotations

import json
import time

from tests.python.conftest import REPO
from tests.ui.conftest import TOKEN
from tests.ui.test_lab_flow import LONG, api, open_notebook, post, ship_dialog

SCREENSHOTS = REPO / "docs" / "screenshots"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def write_notebook(path, *cells: str, params: str | None = None) -> None:
    """A notebook: an optional parameters cell, then code cells ('#md ' prefix: markdown)."""
    out = []
    if params is not None:
        out.append({"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": params,
                    "outputs": [], "execution_count": None})
    for src in cells:
        if src.startswith("#md "):
            out.append({"cell_type": "markdown", "metadata": {}, "source": src[4:]})
        else:
            out.append({"cell_type": "code", "metadata": {}, "source": src, "outputs": [],
                        "execution_count": None})
    path.write_text(json.dumps({"cells": out, "nbformat": 4, "nbformat_minor": 5,
                                "metadata": {"kernelspec": KERNELSPEC}}))


def set_theme(page, name: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel").get_by_text(name, exact=True).click()
    page.wait_for_function(
        "dark => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')",
        arg="Dark" in name,
    )
    page.wait_for_timeout(500)  # theme CSS applied


def keep(page, name: str, node=None) -> None:
    """A screenshot for the docs (and the test artifacts)."""
    page.shot(name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    (node or page).screenshot(path=str(target))


def open_lab(page, lab) -> None:
    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    page.locator(".jp-DirListing-item").first.wait_for(timeout=90_000)


def open_panel(page):
    if not page.locator(".jp-MlShip-panelBody").is_visible():
        page.locator(".jp-SideBar [data-id='jp-ml-ship-panel'], .jp-SideBar li[title*='ML Ship']").first.click()
    panel = page.locator(".jp-MlShip-panelBody")
    panel.wait_for()
    return panel


def wait_run(lab, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api(lab, f"/runs/{run_id}")
        if run["status"] in ("succeeded", "failed", "cancelled", "timed_out"):
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not end: {run}")


def open_run_from_panel(page, lab, job: str, run_id: str):
    panel = open_panel(page)
    panel.get_by_text(job, exact=True).first.click()
    panel.locator(f".jp-MlShip-runs li[data-run='{run_id}'] button").first.click()
    body = page.locator(f".jp-MlShip-runBody[data-run='{run_id}']")
    body.wait_for(timeout=LONG)
    return body


# 1. A failure says where: the user's cell number, the line, the source, the traceback


FAILING = "a = 1\nb = 0\nprint(a / b)"


def test_a_failure_shows_the_cell_line_and_traceback_and_opens_the_notebook_there(page, lab):
    write_notebook(lab.root / "divide.ipynb", "print('first')", "#md a note", FAILING,
                   "print('never')", params="rows = 10")
    shipped = post(lab, "/ship", {"path": "divide.ipynb", "name": "divide", "run": True,
                                  "parameters": {"rows": 3}})
    run = wait_run(lab, shipped["run"]["id"])
    assert run["status"] == "failed"
    # the REST error carries the same place
    assert run["error"]["cell_number"] == 4 and run["error"]["line"] == 3, run["error"]
    open_lab(page, lab)
    body = open_run_from_panel(page, lab, "divide", run["id"])
    box = body.locator(".jp-MlShip-error")
    assert box.locator("[data-where]").inner_text() == "In cell 4, line 3"
    failing = box.locator(".jp-MlShip-errorCell-line.jp-mod-failing")
    assert failing.get_attribute("data-line") == "3"
    assert "print(a / b)" in failing.inner_text()
    # the traceback is rendered in colour (JupyterLab's ansi classes), not as raw escapes
    traceback = box.locator(".jp-MlShip-traceback-text")
    assert "ZeroDivisionError" in traceback.inner_text()
    assert "\x1b" not in traceback.inner_text() and "[0;" not in traceback.inner_text()
    assert traceback.locator("[class*='ansi-']").count() > 0
    keep(page, "failure-traceback", body)
    set_theme(page, "JupyterLab Dark")
    keep(page, "failure-traceback-dark", body)
    set_theme(page, "JupyterLab Light")

    # the link opens the output notebook with the failing cell active
    box.get_by_role("button", name="Open the notebook at cell 4").click()
    active = page.locator(".jp-NotebookPanel.jp-MlShip-outputNotebook .jp-Cell.jp-mod-active")
    active.wait_for(timeout=30_000)
    assert "print(a / b)" in active.inner_text()
    page.shot("01-failure-open-at-cell")


# 2. Shipping content equal to an older version after a roll back makes that version current


def test_ship_after_a_roll_back_makes_the_same_content_current_and_runs_it(page, lab):
    write_notebook(lab.root / "rollme.ipynb", "print('content one')", params="x = 1")
    post(lab, "/ship", {"path": "rollme.ipynb", "name": "rollme"})
    write_notebook(lab.root / "rollme.ipynb", "print('content two')", params="x = 1")
    open_notebook(page, lab, "rollme.ipynb")
    ship_dialog(page).get_by_role("button", name="Ship", exact=True).click()
    page.locator(".Toastify__toast").filter(has_text="Shipped rollme v2").wait_for(timeout=30_000)
    post(lab, "/jobs/rollme/rollback", {"version": 1})
    assert api(lab, "/jobs/rollme")["current_version"] == 1

    open_notebook(page, lab, "rollme.ipynb")  # its content is v2's
    panel = open_panel(page)
    panel.get_by_text("rollme", exact=True).first.click()
    panel.locator("[data-current-version='1']").wait_for()
    page.locator(".jp-NotebookPanel").first.click()
    ship_dialog(page).get_by_role("button", name="Ship & run").click()
    toast = page.locator(".Toastify__toast").filter(has_text="current version again")
    toast.wait_for(timeout=30_000)
    assert "Same content as v2" in toast.inner_text()
    body = page.locator(".jp-MlShip-runBody[data-run]").last
    body.wait_for(timeout=LONG)
    run = wait_run(lab, body.get_attribute("data-run"))
    assert run["version"] == 2 and run["status"] == "succeeded"
    body.get_by_text("content two").first.wait_for(timeout=30_000)
    # the header says what ran
    assert body.locator(".jp-MlShip-versionLink").inner_text() == "v2"
    panel = open_panel(page)
    panel.locator("[data-current-version='2']").wait_for(timeout=10_000)
    assert api(lab, "/jobs/rollme")["current_version"] == 2
    page.shot("02-ship-after-rollback")
