"""The panel's Schedules section (#24 item 2): every schedule in words with its time zone, next
run and last run; edited with the friendly builder (weekdays at 07:30 in Europe/Paris), paused
and resumed without a new version; an unknown zone is said before anything is saved. Light and
dark, 1440 and 900 px wide; docs/screenshots/schedules.png and schedules-dark.png."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.ui.conftest import set_theme, settled
from tests.ui.test_lab_fixes import KERNELSPEC, keep, open_lab, open_panel
from tests.ui.test_lab_flow import api, post


def _notebook(path, schedule: str) -> None:
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": "print('tick')", "outputs": [],
                   "execution_count": None}],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": KERNELSPEC, "ml_ship": {"schedule": schedule}}}))


def _schedule(lab, name: str) -> dict:
    return next(s for s in api(lab, "/schedules")["schedules"] if s["name"] == name)


def test_schedules_are_edited_paused_and_resumed_in_the_panel(page, lab):
    _notebook(lab.root / "nightly_scores.ipynb", "0 6 * * *")
    _notebook(lab.root / "hourly_refresh.ipynb", "15 */4 * * *")
    job = post(lab, "/ship", {"path": "nightly_scores.ipynb", "name": "nightly-scores"})["job"]
    post(lab, "/ship", {"path": "hourly_refresh.ipynb", "name": "hourly-refresh"})
    page.set_viewport_size({"width": 1440, "height": 900})
    open_lab(page, lab)
    panel = open_panel(page)
    section = panel.locator("section.jp-MlShip-schedules")
    row = section.locator("[data-schedule='job:nightly-scores']")
    expect(row).to_contain_text("At 06:00", timeout=30_000)
    expect(row).to_contain_text("UTC")
    expect(row.locator(".jp-MlShip-scheduleNext")).to_contain_text("06:00")
    expect(section.locator("[data-schedule='job:hourly-refresh']")).to_contain_text(
        "every 4 hours")

    # the builder: weekdays at 07:30, read in Paris
    row.get_by_role("button", name="Edit").click()
    editor = row.locator(".jp-MlShip-scheduleEditor")
    # a number out of range is said beside its field and not used (it was clamped silently)
    editor.get_by_label("Repeat").select_option("hours")
    hours = editor.get_by_label("Hours apart")
    hours.fill("99")
    expect(editor.get_by_role("alert")).to_have_text("Hours apart: a whole number from 1 to 23")
    expect(editor.get_by_label("Cron")).to_have_value("0 */4 * * *")
    hours.fill("6")
    expect(editor.get_by_role("alert")).to_have_count(0)
    expect(editor.get_by_label("Cron")).to_have_value("0 */6 * * *")
    editor.get_by_label("Repeat").select_option("weekdays")
    editor.get_by_label("Time", exact=True).fill("07:30")
    expect(editor.get_by_label("Cron")).to_have_value("30 7 * * 1-5")
    zone = editor.get_by_label("Time zone")
    zone.fill("Mars/Olympus")
    expect(editor.locator(".jp-MlShip-scheduleHint")).to_contain_text("not a known time zone")
    expect(editor.get_by_role("button", name="Save")).to_be_disabled()
    zone.fill("Europe/Paris")
    expect(editor.locator(".jp-MlShip-scheduleHint")).to_contain_text(
        "At 07:30, Monday through Friday (Europe/Paris)")
    assert _schedule(lab, "nightly-scores")["timezone"] == "UTC"  # nothing saved yet
    settled(page)
    page.shot("builder")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_count(0)
    expect(row).to_contain_text("Europe/Paris")
    expect(row.locator("code")).to_have_text("30 7 * * 1-5")
    expect(row.locator(".jp-MlShip-scheduleNext")).to_contain_text("07:30")  # the zone's clock
    saved = _schedule(lab, "nightly-scores")
    assert (saved["schedule"], saved["timezone"], saved["edited"]) == \
        ("30 7 * * 1-5", "Europe/Paris", True)
    assert api(lab, "/jobs/nightly-scores")["current_version"] == job["current_version"]

    # pause, then resume: the server's schedule says so, each time
    row.get_by_role("button", name="Pause").click()
    expect(row.locator(".jp-MlShip-scheduleBadge")).to_have_text("paused")
    assert _schedule(lab, "nightly-scores")["paused"] is True
    settled(page)
    keep(page, "schedules", section)
    for width in (1440, 900):
        page.set_viewport_size({"width": width, "height": 900})
        settled(page)
        box = row.get_by_role("button", name="Resume").bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, (width, box)
        page.shot(f"light-{width}")
    set_theme(page, "JupyterLab Dark")
    try:
        for width in (900, 1440):
            page.set_viewport_size({"width": width, "height": 900})
            settled(page)
            page.shot(f"dark-{width}")
        keep(page, "schedules-dark", section)
    finally:
        set_theme(page, "JupyterLab Light")
    row.get_by_role("button", name="Resume").click()
    expect(row.locator(".jp-MlShip-scheduleBadge")).to_have_count(0)
    assert _schedule(lab, "nightly-scores")["paused"] is False
    trail = api(lab, "/jobs/nightly-scores/audit")["events"]
    assert [e["data"]["action"] for e in trail if e["kind"] == "schedule"] == \
        ["resume", "pause", "edit"]
