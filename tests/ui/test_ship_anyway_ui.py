"""Issue #26, "Ship anyway" in the Ship dialog, in a real JupyterLab in a real Chromium.

A folder of 5,001 small files is over the server's limit (``MlShip.max_project_files``, 5,000):
the dialog says so and disables Ship; the user of this single-user server may ship it anyway,
so a "Ship anyway" box is offered; ticked, the reason turns into a warning and Ship ships it
(the version holds every file) and the audit trail records who did. Screenshots in
tests/ui/artifacts/ (ship-anyway-*.png).
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
import urllib.request

from playwright.sync_api import expect

from tests.ui.conftest import ARTIFACTS, TOKEN, settled
from tests.ui.test_lab_flow import ship_dialog_ready

FILES = 5001


def api(lab, route: str, **query: str):
    url = lab.api(route) + "".join(f"&{k}={urllib.parse.quote(v)}" for k, v in query.items())
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def write_big(folder) -> None:
    (folder / "parts").mkdir(parents=True)
    for i in range(FILES):
        (folder / "parts" / f"p{i:04d}.txt").write_text(f"{i}\n")
    (folder / "bigship.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": "import os\nprint(len(os.listdir('parts')))"}],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
    }))


def test_a_folder_over_the_limit_ships_anyway_when_ticked(page, lab):
    folder = lab.root / "bigproj"
    write_big(folder)
    try:
        preview = api(lab, "/project", path="bigproj/bigship.ipynb")
        assert f"{FILES} files (limit 5000)" in preview["error"], preview
        assert preview["may_ship_anyway"] is True, preview

        page.goto(f"{lab.url}lab/tree/bigproj/bigship.ipynb?token={TOKEN}&reset")
        page.locator(".jp-NotebookPanel-toolbar").first.wait_for(timeout=90_000)
        page.locator(".jp-NotebookPanel-toolbar").get_by_text("Ship", exact=True).click()
        dialog = ship_dialog_ready(page.locator(".jp-Dialog"))
        project = dialog.locator(".jp-MlShip-project[data-state='refused']")
        project.wait_for(timeout=60_000)
        error = project.locator(".jp-MlShip-projectError")
        expect(error).to_contain_text("Cannot ship:")
        expect(error).to_contain_text(f"{FILES} files (limit 5000)")
        ship = dialog.get_by_role("button", name="Ship", exact=True)
        expect(ship).to_be_disabled()
        box = error.get_by_role("checkbox", name="Ship anyway")
        expect(box).not_to_be_checked()
        expect(error).to_contain_text("up to 100000 files, 5.0 GB")
        settled(page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        dialog.locator(".jp-Dialog-content").screenshot(
            path=str(ARTIFACTS / "ship-anyway-refused.png"))

        box.check()
        expect(error).to_contain_text("Over the limits:")
        expect(error).not_to_have_class("jp-mod-error")
        expect(ship).to_be_enabled()
        settled(page)
        dialog.locator(".jp-Dialog-content").screenshot(
            path=str(ARTIFACTS / "ship-anyway-ticked.png"))
        box.uncheck()  # changed their mind: refused again
        expect(ship).to_be_disabled()
        box.check()
        ship.click()
        expect(page.locator(".jp-Dialog")).to_have_count(0, timeout=120_000)

        deadline = time.monotonic() + 120  # the ship's answer comes after the dialog closed
        while not (api(lab, "/jobs/bigship/versions")["versions"]
                   if "bigship" in {j["name"] for j in api(lab, "/jobs")["jobs"]} else []):
            assert time.monotonic() < deadline, "bigship was not shipped"
            page.wait_for_timeout(100)
        version = api(lab, "/jobs/bigship/versions/1")
        assert version["project"]["files"] == FILES, version["project"]
        events = api(lab, "/jobs/bigship/audit")["events"]
        anyway = [e for e in events if e["kind"] == "ship-anyway"]
        assert len(anyway) == 1 and anyway[0]["data"]["files"] == FILES, events
        assert anyway[0]["data"]["max_files"] == 5000
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # other tests preview the lab's root
