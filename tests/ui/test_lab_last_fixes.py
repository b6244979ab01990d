"""The last visible lab fixes of #24 item 5, on the realistic layout (``notebooks/train.ipynb``
importing ``src/features.py``, reading ``../data/loans.csv``), in a real JupyterLab and Chromium:
the Ship button stays in a narrow window's notebook toolbar; the Ship dialog's schedule has a
time zone. Screenshots in docs/screenshots/last-*.png.
"""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.python.test_project_layout import make_layout
from tests.ui.conftest import TOKEN, Lab, doc_shot, set_theme, settled

FOLDER = "lastfix"
NB = f"{FOLDER}/notebooks/train.ipynb"

#: the Ship button drawn inside its notebook's toolbar (not in the "…" overflow menu, not cut)
SHIP_IN_TOOLBAR = """() => {
  const bar = document.querySelector('.jp-NotebookPanel-toolbar');
  const ship = bar && bar.querySelector(':scope > .jp-Toolbar-item .jp-MlShip-shipButton');
  if (!ship || !ship.offsetWidth) return false;
  const b = ship.getBoundingClientRect(), t = bar.getBoundingClientRect();
  return b.left >= t.left - 1 && b.right <= t.right + 1 && b.top >= t.top - 1 && b.bottom <= t.bottom + 1;
}"""


@pytest.fixture(scope="module")
def project(lab: Lab) -> str:
    make_layout(lab.root / FOLDER)
    return NB


def _stop_kernels(lab: Lab, path: str) -> None:
    """The kernel the opened notebook started (other tests share the lab)."""
    with urllib.request.urlopen(f"{lab.url}api/sessions?token={TOKEN}", timeout=10) as r:
        sessions = json.load(r)
    for session in sessions:
        if session["path"] == path:
            request = urllib.request.Request(
                f"{lab.url}api/sessions/{session['id']}?token={TOKEN}", method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()


def test_the_ship_button_stays_in_a_narrow_windows_toolbar(page, lab, project):
    """A newcomer's window: 900 px (and 800 px) wide, the file browser open at its default
    width, light and dark: the Ship button is in the notebook's toolbar, not in its "…" menu."""
    page.set_viewport_size({"width": 900, "height": 800})
    page.goto(f"{lab.url}lab/tree/{project}?token={TOKEN}&reset")
    bar = page.locator(".jp-NotebookPanel-toolbar").first
    bar.wait_for(timeout=90_000)
    browser_tab = page.locator(".jp-SideBar [data-id='filebrowser']").first
    if "lm-mod-current" not in (browser_tab.get_attribute("class") or ""):
        browser_tab.click()
    page.locator(".jp-FileBrowser .jp-DirListing-item", has_text="train.ipynb").wait_for()
    # the kernel has started: its name and status are in the toolbar's items by then
    page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=60_000)
    try:
        for width, theme in ((900, "JupyterLab Light"), (900, "JupyterLab Dark"),
                             (800, "JupyterLab Dark"), (800, "JupyterLab Light")):
            page.set_viewport_size({"width": width, "height": 800})
            if page.evaluate("document.body.dataset.jpThemeLight") != \
                    ("false" if "Dark" in theme else "true"):
                set_theme(page, theme)
            settled(page)
            page.wait_for_function(SHIP_IN_TOOLBAR, timeout=10_000)
            ship = bar.locator(".jp-MlShip-shipButton")
            assert ship.inner_text().strip() == "Ship"
            assert page.locator(".jp-Toolbar-responsive-popup .jp-MlShip-shipButton").count() == 0
            # nothing hides it: the element at its centre is the button itself
            box = ship.bounding_box()
            hit = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y)"
                                ".closest('.jp-MlShip-shipButton')",
                                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
            assert hit, (width, theme)
            if width == 900:
                doc_shot(page, f"last-900px{'-dark' if 'Dark' in theme else ''}.png")
        # and it ships: the dialog opens from the button kept in the toolbar
        bar.locator(".jp-MlShip-shipButton").click()
        page.locator(".jp-Dialog .jp-MlShip-shipForm").wait_for(timeout=30_000)
        page.keyboard.press("Escape")
    finally:
        _stop_kernels(lab, project)


def test_the_ship_dialog_schedules_in_a_time_zone(page, lab, project):
    """The schedule's time zone in the Ship dialog: the next run shown as the zone's wall clock,
    an unknown zone refused before shipping, the zone written to metadata.ml_ship.timezone and
    the schedule listed (and fired) in it."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{lab.url}lab/tree/{project}?token={TOKEN}&reset")
    page.locator(".jp-NotebookPanel-toolbar .jp-MlShip-shipButton").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".jp-MlShip-shipForm").wait_for(timeout=30_000)
    try:
        dialog.locator("#jp-MlShip-name").fill("loans-tz")
        zone = dialog.locator("#jp-MlShip-timezone")
        assert zone.input_value() == "UTC"  # the default
        # the zone's choices are the browser's IANA names
        choices = zone.evaluate("e => [...e.list.options].map(o => o.value)")
        assert choices[0] == "UTC" and "Africa/Nairobi" in choices and len(choices) > 300, choices
        dialog.locator("#jp-MlShip-schedule").fill("0 6 * * *")
        hint = dialog.locator("[data-schedule-hint]")
        expect(hint).to_contain_text("06:00 UTC")
        zone.fill("Mars/Olympus")
        dialog.locator(".jp-MlShip-field-error", has_text="not a known time zone").wait_for()
        expect(dialog.get_by_role("button", name="Ship", exact=True)).to_be_disabled()
        zone.fill("America/New_York")
        expect(hint).to_contain_text(re.compile(r"Next run: \d{4}-\d\d-\d\d 06:00 America/New_York"))
        expect(hint).to_contain_text("At 06:00")
        expect(dialog.get_by_role("button", name="Ship", exact=True)).to_be_enabled()
        zone.scroll_into_view_if_needed()
        settled(page)
        content = dialog.locator(".jp-Dialog-content")
        doc_shot(content, "last-ship-timezone.png")
        # dark: the theme is switched with the dialog closed (it is modal), then filled again
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        set_theme(page, "JupyterLab Dark")
        page.locator(".jp-NotebookPanel-toolbar .jp-MlShip-shipButton").first.click()
        dialog.locator(".jp-MlShip-shipForm").wait_for(timeout=30_000)
        dialog.locator("#jp-MlShip-name").fill("loans-tz")
        dialog.locator("#jp-MlShip-schedule").fill("0 6 * * *")
        zone.fill("America/New_York")
        expect(hint).to_contain_text("06:00 America/New_York")
        zone.scroll_into_view_if_needed()
        settled(page)
        doc_shot(content, "last-ship-timezone-dark.png")
        dialog.get_by_role("button", name="Ship", exact=True).click()
        page.locator(".Toastify__toast").filter(has_text="Shipped loans-tz v1").wait_for(timeout=60_000)
    finally:
        _stop_kernels(lab, project)
        set_theme(page, "JupyterLab Light")
    # written to the notebook and to the version; listed in that zone: 06:00 in New York
    meta = json.loads((lab.root / project).read_text())["metadata"]["ml_ship"]
    assert (meta["schedule"], meta["timezone"]) == ("0 6 * * *", "America/New_York")
    with urllib.request.urlopen(lab.api("/schedules"), timeout=30) as r:
        body = json.load(r)
    listed = [s for s in (body["schedules"] if isinstance(body, dict) else body)
              if s["name"] == "loans-tz"]
    assert listed and listed[0]["timezone"] == "America/New_York", listed
    assert listed[0]["next_run"][11:16] in ("10:00", "11:00"), listed  # EDT / EST in UTC
