"""The lab as a user meets it (issue 13): each test is one thing a person tripped on.

Screenshots in the light and dark themes: tests/ui/artifacts/ (the best in docs/screenshots/).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from playwright.sync_api import expect

from tests.python.conftest import REPO
from tests.ui.conftest import TOKEN, set_theme, toasts_drawn_after
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


def toolbar_button_disabled(page, widget: str, label: str) -> bool:
    button = page.locator(f"{widget} .jp-Toolbar .jp-ToolbarButtonComponent", has_text=label).first
    button.wait_for()
    return button.evaluate(
        "b => b.disabled === true || b.hasAttribute('disabled')"
        " || b.getAttribute('aria-disabled') === 'true' || b.classList.contains('jp-mod-disabled')")


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
    # the cell is made active, then drawn (the notebook draws the cells it scrolls to)
    expect(active).to_contain_text("print(a / b)", timeout=30_000)
    page.shot("01-failure-open-at-cell")


# 2. Shipping content equal to an older version after a roll back makes that version current


def test_ship_after_a_roll_back_makes_the_same_content_current_and_runs_it(page, lab):
    write_notebook(lab.root / "rollme.ipynb", "print('content one')", params="x = 1")
    post(lab, "/ship", {"path": "rollme.ipynb", "name": "rollme"})
    write_notebook(lab.root / "rollme.ipynb", "print('content two')", params="x = 1")
    open_notebook(page, lab, "rollme.ipynb")
    # the ship answered before the lab has drawn its "Shipping…" toast (CI once, on a busy
    # machine): the outcome still shows, not a spinner for good
    with toasts_drawn_after(page, r"/ml-ship/api/ship(\?|$)") as toasts:
        ship_dialog(page).get_by_role("button", name="Ship", exact=True).click()
        page.locator(".Toastify__toast").filter(has_text="Shipped rollme v2").wait_for(timeout=30_000)
    assert toasts.held, "the toast library was not loaded by this ship: nothing was held"
    expect(page.locator(".Toastify__toast").filter(has_text="Shipping")).to_have_count(0)
    post(lab, "/jobs/rollme/rollback", {"version": 1})
    assert api(lab, "/jobs/rollme")["current_version"] == 1

    open_notebook(page, lab, "rollme.ipynb")  # its content is v2's
    panel = open_panel(page)
    panel.get_by_text("rollme", exact=True).first.click()
    panel.locator("[data-current-version='1']").wait_for()
    page.locator(".jp-NotebookPanel").first.click()
    ship_dialog(page).get_by_role("button", name="Ship & run").click()
    # (one look: a toast closes by itself after a few seconds)
    page.locator(".Toastify__toast").filter(has_text="current version again").filter(
        has_text="Same content as v2").wait_for(timeout=30_000)
    body = page.locator(".jp-MlShip-runBody[data-run]").last
    body.wait_for(timeout=LONG)
    run = wait_run(lab, body.get_attribute("data-run"))
    assert run["version"] == 2 and run["status"] == "succeeded"
    body.get_by_text("content two").first.wait_for(timeout=30_000)
    # the header says what ran
    expect(body.locator(".jp-MlShip-versionLink")).to_have_text("v2")
    panel = open_panel(page)
    panel.locator("[data-current-version='2']").wait_for()
    assert api(lab, "/jobs/rollme")["current_version"] == 2
    page.shot("02-ship-after-rollback")


# 3. The Ship button belongs to its notebook; the output notebook is visibly read-only


def test_ship_button_stays_enabled_and_the_output_notebook_is_read_only(page, lab):
    write_notebook(lab.root / "source.ipynb", "print('the source')", params="n = 1")
    shipped = post(lab, "/ship", {"path": "source.ipynb", "name": "source", "run": True})
    run = wait_run(lab, shipped["run"]["id"])
    open_notebook(page, lab, "source.ipynb")
    source = page.locator(".jp-NotebookPanel:not(.jp-MlShip-outputNotebook)").first
    button = source.locator(".jp-MlShip-shipButton")
    assert "Ship this notebook" in (button.get_attribute("title") or "")
    open_run_from_panel(page, lab, "source", run["id"])
    page.locator(".jp-MlShip-runWidget .jp-Toolbar").last.get_by_text("Open output").click()
    output = page.locator(".jp-NotebookPanel.jp-MlShip-outputNotebook")
    output.locator(".jp-Cell").filter(has_text="the source").first.wait_for(timeout=30_000)
    output.locator(".jp-Cell").filter(has_text="the source").first.click()
    # the output has focus: the source notebook's Ship button is still there to press
    assert button.is_visible()
    assert "jp-mod-disabled" not in (button.locator("button").first.get_attribute("class") or "")
    assert not button.locator("button").first.is_disabled()
    # visibly read-only: a banner, no Ship button, cells that do not take typing
    banner = output.locator(".jp-MlShip-outputBanner")
    assert "read-only" in banner.inner_text().lower() and f"#{run['id'][-6:]}" in banner.inner_text()
    assert output.locator(".jp-MlShip-shipButton").count() == 0
    cell = output.locator(".jp-Cell").filter(has_text="the source").first
    cell.locator(".cm-content").click()
    page.keyboard.type("XYZ")
    assert "XYZ" not in cell.inner_text()
    # Ctrl+S explains instead of toasting an internal path
    page.keyboard.press("Control+s")
    toast = page.locator(".Toastify__toast").filter(has_text="read-only")
    toast.first.wait_for(timeout=30_000)
    assert "MlShipOutput:" not in toast.first.inner_text()
    keep(page, "output-read-only")
    button.click()
    page.locator(".jp-Dialog .jp-MlShip-shipForm").wait_for()
    assert "Ship source.ipynb" in page.locator(".jp-Dialog").inner_text()
    page.keyboard.press("Escape")


# 4. Runs started from the CLI show up without a Refresh, even when they end at once


def test_a_quick_cli_run_appears_in_the_panel_without_refresh(page, lab):
    write_notebook(lab.root / "quick.ipynb", "print('quick')")
    open_lab(page, lab)
    panel = open_panel(page)
    panel.locator(".jp-MlShip-jobs, .jp-MlShip-empty").first.wait_for()  # what follows is news
    env = {**__import__("os").environ, "ML_SHIP_HOME": str(lab.home)}
    proc = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "ship", str(lab.root / "quick.ipynb"),
                           "--run", "--wait"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    job = panel.locator(".jp-MlShip-jobs li", has_text="quick")
    job.first.wait_for(timeout=30_000)
    job.locator("[data-status='succeeded']").first.wait_for(timeout=30_000)
    page.shot("04-cli-run-appeared")


# 5. Pipeline problems: every one shown, the bad steps outlined, Run disabled; failures readable


def test_an_invalid_pipeline_lists_every_problem_and_cannot_run(page, lab):
    (lab.root / "broken.pipeline.yaml").write_text(
        "name: broken\nsteps:\n"
        "  prep: {notebook: prepare.ipynb}\n"
        "  train: {notebook: train.ipynb, depends_on: [prep], retries: -1}\n"
        "  report: {notebook: evaluate.ipynb, depends_on: [nowhere]}\n"
    )
    page.goto(f"{lab.url}lab/tree/broken.pipeline.yaml?token={TOKEN}&reset")
    view = page.locator(".jp-MlShip-pipelineView")
    view.wait_for(timeout=90_000)
    issues = view.locator(".jp-MlShip-issues li")
    issues.nth(1).wait_for(timeout=30_000)
    texts = issues.all_inner_texts()
    assert any("retries" in t for t in texts) and any("nowhere" in t for t in texts), texts
    view.locator("[data-step='train'][data-invalid='true']").wait_for()
    view.locator("[data-step='report'][data-invalid='true']").wait_for()
    assert view.locator("[data-step='prep'][data-invalid='true']").count() == 0
    assert toolbar_button_disabled(page, ".jp-MlShip-pipelineWidget", "Run pipeline")
    keep(page, "pipeline-invalid")
    set_theme(page, "JupyterLab Dark")
    keep(page, "pipeline-invalid-dark")
    set_theme(page, "JupyterLab Light")


def test_a_failed_pipeline_card_fits_a_half_width_pane_and_names_no_class(page, lab):
    write_notebook(lab.root / "ok.ipynb", "print('ok')")
    write_notebook(lab.root / "bad.ipynb", "raise ValueError('bad input on purpose')")
    (lab.root / "halfway.pipeline.yaml").write_text(
        "name: halfway\nsteps:\n  ok: {notebook: ok.ipynb}\n"
        "  bad: {notebook: bad.ipynb, depends_on: [ok]}\n")
    page.set_viewport_size({"width": 900, "height": 800})
    page.goto(f"{lab.url}lab/tree/halfway.pipeline.yaml?token={TOKEN}&reset")
    page.locator(".jp-MlShip-graph[data-steps='2']").wait_for(timeout=90_000)
    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Run pipeline").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Run pipeline").click()
    page.locator(".jp-MlShip-pipelineRunBar[data-status='failed']").wait_for(timeout=LONG)
    card = page.locator(".jp-MlShip-stepErrors li[data-step='bad']")
    card.get_by_text("bad input on purpose").first.wait_for(timeout=30_000)
    view = page.locator(".jp-MlShip-pipelineView")
    assert "StepFailed" not in view.inner_text()
    button = card.get_by_role("button", name="Open run")
    fits = button.evaluate("b => b.scrollWidth <= b.clientWidth + 1")
    assert fits, "the button's text overflows it"
    keep(page, "pipeline-failure-card")
