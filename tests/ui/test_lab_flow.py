"""What a user does in the lab, in a real JupyterLab in a real Chromium.

Open an example notebook, press Ship, fill a parameter, Ship & run, watch the run reach
"succeeded" with the printed line in its log, open the output, roll back to version 1; a failing
notebook shows "failed" and its error. Screenshots of each step: tests/ui/artifacts/.
"""

from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.python.conftest import REPO
from tests.ui.conftest import TOKEN, settled, wait_until_resolved

LONG = 120_000  # ms: a run starts a kernel on a busy 2-core machine


def open_notebook(page, lab, name: str) -> None:
    page.goto(f"{lab.url}lab/tree/{name}?token={TOKEN}&reset")
    page.locator(".jp-NotebookPanel-toolbar").first.wait_for(timeout=90_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()


def ship_dialog_ready(dialog, timeout: float = 30_000):
    """The Ship dialog drawn and done moving the focus to its name field: typing earlier can
    land in the name (CI once typed a parameter's value there: 'evaluate0.1')."""
    dialog.locator(".jp-MlShip-shipForm").wait_for(timeout=timeout)
    expect(dialog.locator("#jp-MlShip-name")).to_be_focused(timeout=timeout)
    return dialog


def ship_dialog(page):
    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Ship", exact=True).click()
    return ship_dialog_ready(page.locator(".jp-Dialog"))


def press(dialog, label: str) -> None:
    """Click a dialog button; if it stays disabled (a field the dialog finds invalid), say which
    field and what it shows instead of timing out on the click."""
    button = dialog.get_by_role("button", name=label, exact=True)
    try:
        expect(button).to_be_enabled(timeout=30_000)
    except AssertionError:
        why = dialog.locator(".jp-mod-error, :invalid").evaluate_all(
            "els => els.map(e => e.outerHTML.slice(0, 300))")
        state = dialog.locator(".jp-MlShip-project").get_attribute("data-state")
        raise AssertionError(f"{label!r} stays disabled: invalid {why}, project preview {state}") from None
    button.click()


def api(lab, path: str):
    with urllib.request.urlopen(lab.api(path), timeout=30) as r:
        return json.loads(r.read())


def post(lab, path: str, body: dict) -> dict:
    request = urllib.request.Request(lab.api(path), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def write_greeting_notebook(path) -> None:
    """A notebook with a ``who`` parameter that prints ``hi {who}``."""
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                   "source": "who = 'world'", "outputs": [], "execution_count": None},
                  {"cell_type": "code", "metadata": {}, "source": "print(f'hi {who}')",
                   "outputs": [], "execution_count": None}],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
    }))


def succeeded_with_line(page, lab, job: str, line: str):
    """The run view that just opened shows a run of ``job`` reaching "succeeded" with ``line``
    in its log; if not, the failure says what the server recorded and what the view shows."""
    opened = page.locator(".jp-MlShip-runBody[data-run]").last
    opened.wait_for(timeout=LONG)
    run_id = opened.get_attribute("data-run")
    body = page.locator(f".jp-MlShip-runBody[data-run='{run_id}']")
    try:
        assert api(lab, f"/runs/{run_id}")["job"] == job
        body.and_(page.locator("[data-status='succeeded']")).wait_for(timeout=LONG)
        body.locator(".jp-MlShip-log").get_by_text(line).wait_for(timeout=30_000)
    except PlaywrightTimeout:
        run = api(lab, f"/runs/{run_id}")
        with urllib.request.urlopen(lab.api(f"/runs/{run_id}/logs"), timeout=30) as r:
            log = r.read().decode()
        views = page.locator(".jp-MlShip-runBody").evaluate_all(
            "els => els.map(e => [e.dataset.run, e.dataset.status, e.offsetParent !== null,"
            " (e.querySelector('.jp-MlShip-log') || {}).textContent])")
        raise AssertionError(
            f"run {run_id}: {run['status']}, parameters {run['parameters']}; server log:\n"
            f"{log}\nrun views (run, status, shown, log): {views}") from None
    return body


def readme_shot(page, name: str, node=None) -> None:
    """A screenshot for the README (docs/screenshots/NAME.png): the toasts hidden, the page
    settled (test_lab_fixes.keep imports this module, so it cannot be used here)."""
    page.add_style_tag(content=".Toastify__toast-container { display: none !important; }")
    settled(page)
    (REPO / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
    (node or page).screenshot(path=str(REPO / "docs" / "screenshots" / f"{name}.png"))


def test_ship_run_watch_output_and_roll_back(page, lab):
    open_notebook(page, lab, "hello.ipynb")
    page.shot("01-notebook")
    dialog = ship_dialog(page)
    name_param = dialog.locator("#jp-MlShip-param-name")
    name_param.fill("Ada")
    dialog.locator("#jp-MlShip-message").fill("first version")
    page.shot("02-ship-dialog")
    press(dialog, "Ship & run")

    run_view = succeeded_with_line(page, lab, "hello", "hello, Ada!")
    page.shot("03-run-succeeded")
    readme_shot(page, "run-view")
    assert run_view.locator(".jp-MlShip-status").first.inner_text() == "succeeded"

    # the server agrees: the run has the injected parameter and the recorded output
    runs = api(lab, "/runs")["runs"]
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["parameters"]["name"] == "Ada"
    assert runs[0]["outputs"] == {"greeted": "Ada"}

    # open the executed notebook: a read-only notebook with the injected parameters
    page.locator(".jp-Toolbar").get_by_text("Open output").last.click()
    injected = page.locator(".jp-Notebook .jp-Cell").filter(has_text='name = "Ada"')
    injected.first.wait_for(timeout=30_000)
    page.shot("04-output-notebook")

    # a second version, then roll back to the first from the panel
    open_notebook(page, lab, "hello.ipynb")
    cell = page.locator(".jp-Notebook .jp-Cell").nth(2)
    cell.click()
    page.keyboard.press("Enter")
    page.keyboard.press("Control+End")
    page.keyboard.type("\nprint('second version')")
    page.keyboard.press("Escape")
    dialog = ship_dialog(page)
    dialog.locator("#jp-MlShip-message").fill("second version")
    press(dialog, "Ship")
    wait_until_resolved(
        page, "() => fetch('/ml-ship/api/jobs/hello').then(r => r.json())"
        ".then(j => j.current_version === 2)", timeout=LONG)
    page.locator(".jp-SideBar [data-id='jp-ml-ship-panel'], .jp-SideBar li[title*='ML Ship']").first.click()
    panel = page.locator(".jp-MlShip-panelBody")
    panel.get_by_text("hello", exact=True).first.click()
    panel.get_by_text(re.compile(r"^Versions")).click()
    versions = panel.locator(".jp-MlShip-versions")
    versions.wait_for()
    page.shot("05-versions")
    versions.get_by_role("button", name="Roll back to v1").click()
    page.locator(".jp-Dialog").get_by_role("button", name=re.compile("Roll back")).click()
    versions.locator("li").filter(has_text="v1").locator(".jp-MlShip-current").wait_for()
    page.shot("06-rolled-back")
    readme_shot(page, "versions")
    assert api(lab, "/jobs/hello")["current_version"] == 1


def test_a_failing_notebook_shows_failed_and_the_error(page, lab):
    open_notebook(page, lab, "evaluate.ipynb")
    dialog = ship_dialog(page)
    dialog.locator("#jp-MlShip-param-accuracy").fill("0.1")
    press(dialog, "Ship & run")
    page.locator(".jp-MlShip-runBody[data-status='failed']").last.wait_for(timeout=LONG)
    body = page.locator(".jp-MlShip-runBody[data-status='failed']").last
    body.get_by_text(re.compile("ValueError")).first.wait_for()
    body.get_by_text(re.compile("below the bar")).first.wait_for()
    page.shot("07-run-failed")


def test_ship_from_the_file_browser_context_menu(page, lab):
    write_greeting_notebook(lab.root / "from_browser.ipynb")
    (lab.root / "notes.txt").write_text("not a notebook")
    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    item = page.locator(".jp-DirListing-item[data-file-type='notebook']",
                        has_text="from_browser.ipynb")
    item.wait_for(timeout=90_000)
    item.click(button="right")
    entry = page.locator(".lm-Menu-item", has_text="Ship Notebook as a Job…")
    entry.wait_for()
    page.shot("08-file-browser-menu")
    entry.click()
    dialog = ship_dialog_ready(page.locator(".jp-Dialog"), timeout=60_000)
    assert "Ship from_browser.ipynb" in dialog.inner_text()
    dialog.locator("#jp-MlShip-param-who").fill("browser")
    press(dialog, "Ship & run")
    succeeded_with_line(page, lab, "from-browser", "hi browser")
    page.shot("09-shipped-from-file-browser")
    assert api(lab, "/jobs/from-browser")["current_version"] == 1

    # a file that is not a notebook has no Ship entry
    page.keyboard.press("Escape")
    page.locator(".jp-DirListing-item", has_text="notes.txt").click(button="right")
    page.locator(".lm-Menu").first.wait_for()
    assert page.locator(".lm-Menu-item", has_text="Ship Notebook as a Job…").count() == 0


def test_the_run_dialog_starts_from_the_last_run(page, lab):
    write_greeting_notebook(lab.root / "remember.ipynb")
    shipped = post(lab, "/ship", {"path": "remember.ipynb", "name": "remember", "run": True,
                                  "parameters": {"who": "Grace"},
                                  "config": {"schedule": "0 6 * * *"}})
    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    page.locator(".jp-SideBar [data-id='jp-ml-ship-panel'], .jp-SideBar li[title*='ML Ship']").first.click()
    panel = page.locator(".jp-MlShip-panelBody")
    panel.get_by_text("remember", exact=True).first.click()
    # the job's schedule and its next tick (06:00 UTC), in the job's header
    schedule = panel.locator(".jp-MlShip-schedule[data-schedule='0 6 * * *']")
    text = " ".join(schedule.inner_text().split())
    # in words, with its time zone, the next tick on that zone's clock
    assert text.startswith("on schedule 0 6 * * * UTC · At 06:00 · next ") and "06:00" in text, text
    page.shot("10a-job-schedule")

    def run_dialog():
        panel.locator(".jp-MlShip-runButton").click()
        dialog = page.locator(".jp-Dialog")
        dialog.locator(".jp-MlShip-runForm").wait_for()
        # the dialog focuses its first field once drawn: type only after that
        expect(dialog.locator(".jp-Dialog-body").locator("input, textarea, select").first
               ).to_be_focused()
        return dialog

    dialog = run_dialog()
    who = dialog.locator("#jp-MlShip-param-who")
    assert who.input_value() == "Grace"
    hint = dialog.locator(".jp-MlShip-initialFrom")
    assert f"run #{shipped['run']['id'][-6:]} (v1" in hint.inner_text()
    page.shot("10-run-dialog-from-last-run")
    readme_shot(page, "run-dialog-last-run")
    hint.get_by_role("button", name="Use the defaults").click()
    assert who.input_value() == "world"
    assert hint.count() == 0
    who.fill("Lin")
    dialog.get_by_role("button", name="Run", exact=True).click()
    succeeded_with_line(page, lab, "remember", "hi Lin")
    assert run_dialog().locator("#jp-MlShip-param-who").input_value() == "Lin"
    page.keyboard.press("Escape")


def test_a_long_log_opens_at_its_end(page, lab):
    source = ("for i in range(40_000):\n"
              "    print(f'line {i:05d} ' + 'x' * 70)\n"
              "print('the very last line')")
    (lab.root / "biglog.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
                   "execution_count": None}],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
    }))
    open_notebook(page, lab, "biglog.ipynb")
    ship_dialog(page).get_by_role("button", name="Ship & run").click()
    page.locator(".jp-MlShip-runBody[data-status='succeeded']").last.wait_for(timeout=LONG)
    run_tab = page.locator(".lm-TabBar-tab", has_text=re.compile(r"^(Runs: )?biglog #"))
    run_tab.locator(".lm-TabBar-tabCloseIcon").click()
    page.locator(".jp-MlShip-runBody").wait_for(state="detached")

    # reopened from the panel, the 3.2 MB log starts near its end instead of byte 0
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.locator(".jp-SideBar [data-id='jp-ml-ship-panel'], .jp-SideBar li[title*='ML Ship']").first.click()
    panel = page.locator(".jp-MlShip-panelBody")
    panel.get_by_text("biglog", exact=True).first.click()
    panel.locator(".jp-MlShip-runs li[data-run] button").first.click()
    page.locator(".jp-MlShip-runBody[data-status='succeeded']").last.wait_for(timeout=LONG)
    log = page.locator(".jp-MlShip-logBox").last
    log.get_by_text("the very last line").wait_for(timeout=30_000)
    notice = log.locator(".jp-MlShip-logNotice")
    assert "not kept in the lab" in notice.inner_text()
    assert log.get_by_text("line 00000", exact=False).count() == 0
    follows = [u for u in sockets if "/logs/ws" in u]
    assert follows and all("tail=" in u for u in follows), follows  # not streamed from byte 0
    page.shot("08-long-log")
