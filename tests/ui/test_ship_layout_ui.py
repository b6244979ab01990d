"""The Ship dialog for everyday projects (#24 items 1 and 3), in a real JupyterLab and Chromium.

A realistic layout under the server root: ``loans/notebooks/train.ipynb`` importing
``src/features.py`` (``sys.path.insert(0, "..")``) and reading ``../data/loans.csv``. The dialog
proposes ``loans`` as the project folder (with the reasons; the folder picker works), the run
succeeds; shipped from the notebook's own folder instead, the run fails and its error box says
what is outside and how to fix it; the notification fields write ``metadata.ml_ship.notify``
and "Send a test" reaches a real SMTP server (aiosmtpd). Light and dark, 1440 and 900 px wide;
screenshots in docs/screenshots/ (project-folder.png, ship-dialog.png, run-hint.png,
ship-notify.png).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.python.notify_harness import MailBox, until
from tests.python.test_project_layout import make_layout
from tests.ui.conftest import ARTIFACTS, Lab, doc_shot, run_lab, set_theme, settled
from tests.ui.test_lab_flow import press
from tests.ui.test_project_ui import hide_notifications, open_notebook, ship_dialog

LONG = 150_000  # ms: a run starts a kernel on a busy 2-core machine


@pytest.fixture(scope="module")
def mailbox() -> Iterator[MailBox]:
    box = MailBox()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, mailbox: MailBox) -> Iterator[Lab]:
    """A lab of its own: an SMTP server (the harness) and a webhook secret that is not set."""
    env = {"ML_SHIP_SMTP_HOST": "127.0.0.1", "ML_SHIP_SMTP_PORT": str(mailbox.port),
           "ML_SHIP_SMTP_FROM": "ml-ship@example.com"}
    with run_lab(tmp_path_factory.mktemp("layout-lab"), env) as running:
        yield running


def metadata(lab: Lab, path: str) -> dict:
    """The notebook's metadata.ml_ship ({} while the lab is still writing the file)."""
    try:
        return json.loads((lab.root / path).read_text())["metadata"].get("ml_ship", {})
    except json.JSONDecodeError:  # read in the middle of a save
        return {}


def test_the_dialog_proposes_the_project_folder_and_the_run_succeeds(page, lab):
    make_layout(lab.root / "loans")
    page.set_viewport_size({"width": 1440, "height": 900})
    open_notebook(page, lab, "loans/notebooks/train.ipynb")
    dialog = ship_dialog(page)
    folder = dialog.locator("#jp-MlShip-root")
    expect(folder).to_have_value("loans")  # the proposal, with its reasons
    reasons = dialog.locator(".jp-MlShip-folderProposal[data-proposed='loans']")
    expect(reasons).to_contain_text('it adds ".." to sys.path')
    expect(reasons).to_contain_text("../data/loans.csv")
    summary = dialog.locator(".jp-MlShip-project[data-state='ready'] .jp-MlShip-projectSummary")
    expect(summary).to_have_attribute("data-files", "4")  # pyproject, src/ (2), data/loans.csv

    # the folder picker: JupyterLab's file browser (folders only), inside the Ship dialog
    dialog.get_by_role("button", name="Choose…").click()
    picker = dialog.locator(".jp-MlShip-pickerHost")
    items = picker.locator(".jp-MlShip-folderBrowser .jp-DirListing-item")
    expect(items).to_have_count(3)  # data, notebooks, src: no files
    items.filter(has_text="notebooks").click()
    settled(page)
    page.screenshot(path=str(ARTIFACTS / "project-folder-picker.png"))
    picker.get_by_role("button", name="Select").click()
    expect(picker.locator(".jp-MlShip-folderBrowser")).to_have_count(0)
    expect(folder).to_have_value("loans/notebooks")
    offered = dialog.locator(".jp-MlShip-folderProposal[data-offered='loans']")
    expect(offered).to_contain_text("reaches outside this folder")
    expect(summary).to_have_attribute("data-files", "0")
    offered.get_by_role("button", name="Ship loans/ instead").click()
    expect(folder).to_have_value("loans")
    expect(summary).to_have_attribute("data-files", "4")
    settled(page)
    doc_shot(dialog.locator(".jp-Dialog-content"), "project-folder.png")
    # what will be shipped, opened: the files of loans/, the largest first
    dialog.locator(".jp-MlShip-projectDetails > summary").click()
    expect(dialog.locator(".jp-MlShip-projectDetails")).to_contain_text("src/features.py")
    settled(page)
    doc_shot(page, "ship-dialog-project.png")

    # a 900 px window, light theme: the folder row, the reasons and the buttons stay in the
    # dialog, which stays in the window (nothing scrolls sideways)
    page.set_viewport_size({"width": 900, "height": 900})
    settled(page)
    content = dialog.locator(".jp-Dialog-content")
    scroll = content.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll[0] <= scroll[1] + 1, scroll
    frame = content.bounding_box()
    assert frame and frame["x"] >= 0 and frame["x"] + frame["width"] <= 900, frame
    for part in (folder, dialog.get_by_role("button", name="Choose…"),
                 dialog.locator(".jp-MlShip-folderProposal").first, summary,
                 dialog.get_by_role("button", name="Ship", exact=True),
                 dialog.get_by_role("button", name="Ship & run")):
        box = part.bounding_box()
        assert box and box["x"] >= frame["x"] and \
            box["x"] + box["width"] <= frame["x"] + frame["width"] + 1 and \
            box["y"] + box["height"] <= 900, (part, box, frame)
    page.screenshot(path=str(ARTIFACTS / "project-folder-light-900.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
    # the README's Ship dialog: its settings from the parameters on (the folder is shown above)
    dialog.locator(".jp-MlShip-section", has_text="Parameters for").evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    expect(dialog.locator("select[name='backend']")).to_be_visible()  # the server's backends
    expect(dialog.get_by_role("button", name="Ship & run")).to_be_in_viewport()
    settled(page)
    doc_shot(content, "ship-dialog.png")

    press(dialog, "Ship & run")
    body = page.locator(".jp-MlShip-runBody[data-status='succeeded']").last
    body.wait_for(timeout=LONG)
    assert metadata(lab, "loans/notebooks/train.ipynb")["root"] == ".."


def test_notification_fields_are_written_and_send_a_test_reaches_the_smtp_server(
        page, lab, mailbox):
    make_layout(lab.root / "alerts")
    page.set_viewport_size({"width": 1440, "height": 900})
    open_notebook(page, lab, "alerts/notebooks/train.ipynb")
    set_theme(page, "JupyterLab Dark")
    dialog = ship_dialog(page)
    dialog.locator("#jp-MlShip-notifyEmail").fill("oncall@example.com, not-an-address")
    expect(dialog.locator(".jp-MlShip-notifyFields")).to_contain_text(
        "Not an email address: not-an-address")
    expect(dialog.get_by_role("button", name="Ship", exact=True)).to_be_disabled()
    dialog.locator("#jp-MlShip-notifyEmail").fill("oncall@example.com, ds@example.com")
    dialog.locator("#jp-MlShip-notifyWebhook").fill("ML_SHIP_NO_SUCH_HOOK")
    dialog.locator("input[name='notify-on-succeeded']").check()
    dialog.locator("input[name='notify-on-degraded']").uncheck()
    before = len(mailbox.messages)
    dialog.get_by_role("button", name="Send a test").click()
    results = dialog.locator(".jp-MlShip-notifyResults")
    expect(results.locator("li[data-channel='email'][data-sent='yes']")).to_contain_text(
        "oncall@example.com, ds@example.com")
    expect(results.locator("li[data-channel='webhook'][data-sent='no']")).to_contain_text(
        "ML_SHIP_NO_SUCH_HOOK is not set")
    until(lambda: len(mailbox.messages) > before, timeout=10)
    assert mailbox.messages[-1]["Subject"] == "[ml-ship] Test notification for train"
    dialog.locator("#jp-MlShip-notifyWebhook").fill("")
    settled(page)
    doc_shot(dialog.locator(".jp-MlShip-notifySection"), "ship-notify-dark.png")
    press(dialog, "Ship")
    page.locator(".jp-Dialog").wait_for(state="detached")
    until(lambda: "notify" in metadata(lab, "alerts/notebooks/train.ipynb"), timeout=30)
    assert metadata(lab, "alerts/notebooks/train.ipynb")["notify"] == {
        "on": ["failed", "timed_out", "succeeded"],
        "email": ["oncall@example.com", "ds@example.com"]}

    # opened again (light theme): the fields read back what was written; a test sent again
    set_theme(page, "JupyterLab Light")
    dialog = ship_dialog(page)
    expect(dialog.locator("#jp-MlShip-notifyEmail")).to_have_value(
        "oncall@example.com, ds@example.com")
    expect(dialog.locator("input[name='notify-on-succeeded']")).to_be_checked()
    expect(dialog.locator("input[name='notify-on-degraded']")).not_to_be_checked()
    dialog.get_by_role("button", name="Send a test").click()
    expect(dialog.locator(".jp-MlShip-notifyResults li[data-channel='email'][data-sent='yes']")
           ).to_be_visible()
    settled(page)
    doc_shot(dialog.locator(".jp-MlShip-notifySection"), "ship-notify.png")
    dialog.get_by_role("button", name="Cancel").click()


def test_a_run_that_needs_its_project_folder_says_so_in_its_error_box(page, lab):
    make_layout(lab.root / "hint")
    page.set_viewport_size({"width": 900, "height": 900})
    open_notebook(page, lab, "hint/notebooks/train.ipynb")
    set_theme(page, "JupyterLab Dark")
    dialog = ship_dialog(page)
    folder = dialog.locator("#jp-MlShip-root")
    expect(folder).to_have_value("hint")
    folder.fill("hint/notebooks")  # the notebook's own folder: src/ and data/ stay behind
    expect(dialog.locator(".jp-MlShip-projectSummary")).to_have_attribute("data-files", "0")
    expect(dialog.get_by_role("button", name="Ship & run")).to_be_visible()
    press(dialog, "Ship & run")
    body = page.locator(".jp-MlShip-runBody[data-status='failed']").last
    body.wait_for(timeout=LONG)
    assert "root" not in metadata(lab, "hint/notebooks/train.ipynb")
    box = body.locator(".jp-MlShip-error")
    hint = box.locator(".jp-MlShip-error-hint")
    expect(hint).to_contain_text("module 'src' is hint/src, outside the shipped folder "
                                 "hint/notebooks")
    expect(hint).to_contain_text("metadata.ml_ship.root to '..'")
    # the box stays in its pane: a long traceback line scrolls inside it
    width = page.evaluate("el => [el.scrollWidth, el.clientWidth]", box.element_handle())
    assert width[0] <= width[1] + 1, width
    hide_notifications(page)
    settled(page)
    doc_shot(box, "run-hint-dark.png")
    set_theme(page, "JupyterLab Light")
    doc_shot(box, "run-hint.png")
