"""Environments and git provenance in a real JupyterLab in a real Chromium (#23).

A job shipped three times from a git checkout (v1 clean, v2 and v3 with uncommitted changes):
the job's header shows each environment's version ("production v3"); a version shows its
commit, linked to the commit's page on GitHub, its branch and whether it was dirty; Promote on
v2 with staging picked in its dialog moves staging only (the header says "staging v2", the
version row says staging), then Promote to production moves production. A gated job's rejected
version is refused by the gate, and the dialog says why. Screenshot:
tests/ui/artifacts/environments.png (copied to docs/screenshots/).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import expect

from tests.python.conftest import require
from tests.ui.conftest import ARTIFACTS, TOKEN, settled
from tests.ui.test_health_ui import decided, widen_side_panel
from tests.ui.test_project_ui import PANEL, api, hide_notifications, post

LONG = 60_000


def notebook(source: str, ml_ship: dict | None = None) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                   "execution_count": None}],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}, "ml_ship": ml_ship or {}},
    })


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_environments_on_a_job_promote_and_the_commit_of_a_version(page, lab):
    require("git", shutil.which("git") is not None, "git is not installed")
    repo = lab.root / "scoring"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ada@example.com")
    git(repo, "config", "user.name", "Ada")
    git(repo, "remote", "add", "origin", "git@github.com:acme/scoring.git")
    (repo / "score.ipynb").write_text(notebook("print('v1')"))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "score")
    head = git(repo, "rev-parse", "HEAD")
    for n in (1, 2, 3):
        (repo / "score.ipynb").write_text(notebook(f"print('v{n}')"))
        shipped = post(lab, "/ship", {"path": "scoring/score.ipynb", "name": "score"})["version"]
        assert shipped["number"] == n and shipped["git"]["commit"] == head, shipped
    assert api(lab, "/jobs/score")["environments"] == {"production": 3}
    # a gated job whose first version fails its validation run: rejected
    (lab.root / "gated.ipynb").write_text(notebook("raise ValueError('accuracy too low')",
                                                   {"promote": True}))
    post(lab, "/ship", {"path": "gated.ipynb", "name": "gated"})
    assert decided(lab, "gated", 1)["promotion"] == "rejected"

    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    page.locator(PANEL).first.click()
    widen_side_panel(page)
    panel = page.locator(".jp-MlShip-panelBody")
    panel.locator("li[data-job='score'] button").first.click()
    chips = panel.locator(".jp-MlShip-environments [data-environment]")
    expect(chips).to_have_text(["production v3"], timeout=LONG)
    panel.get_by_role("tab", name="Versions (3)").click()
    versions = panel.locator(".jp-MlShip-versions")
    v1 = versions.locator("li[data-version='1']")
    link = v1.locator(".jp-MlShip-gitCommit a")
    expect(link).to_have_text(head[:7])
    expect(link).to_have_attribute("href", f"https://github.com/acme/scoring/commit/{head}")
    expect(v1.locator(".jp-MlShip-gitCommit")).to_have_attribute("data-dirty", "false")
    expect(versions.locator("li[data-version='2'] .jp-MlShip-gitDirty")).to_have_text("dirty")
    expect(versions.locator("li[data-version='2'] .jp-MlShip-gitCommit")).to_contain_text("main")

    # Promote v2: staging, picked in the dialog
    versions.locator("li[data-version='2'] .jp-MlShip-promote").click()
    dialog = page.locator(".jp-Dialog")
    target = dialog.locator("select.jp-MlShip-promoteTarget")
    expect(target).to_have_value("staging")
    expect(dialog).to_contain_text("It points at no version yet.")
    dialog.get_by_role("button", name="Promote").click()
    expect(chips).to_have_text(["staging v2", "production v3"], timeout=LONG)
    expect(versions.locator("li[data-version='2'] [data-environment]")).to_have_text(["staging"])
    expect(page.locator(".Toastify__toast")).to_contain_text("score: v2 is now in staging")
    assert api(lab, "/jobs/score")["environments"] == {"staging": 2, "production": 3}
    hide_notifications(page)
    settled(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".jp-MlShip-panel").screenshot(path=str(ARTIFACTS / "environments.png"))

    # then production: the current version moves, staging stays
    versions.locator("li[data-version='2'] .jp-MlShip-promote").click()
    dialog.locator("select.jp-MlShip-promoteTarget").select_option("production")
    expect(dialog).to_contain_text("It points at v3 now.")
    dialog.get_by_role("button", name="Promote").click()
    expect(chips).to_have_text(["staging v2", "production v2"], timeout=LONG)
    expect(versions.locator("li[data-version='2'] .jp-MlShip-current")).to_be_visible()
    assert api(lab, "/jobs/score")["current_version"] == 2

    # the gate refuses a rejected version, and says why
    panel.get_by_title("All jobs").click()
    panel.locator("li[data-job='gated'] button").first.click()
    panel.get_by_role("tab", name="Versions (1)").click()
    panel.locator(".jp-MlShip-versions li[data-version='1'] .jp-MlShip-promote").click()
    dialog.locator("select.jp-MlShip-promoteTarget").select_option("staging")
    dialog.get_by_role("button", name="Promote").click()
    refusal = page.locator(".jp-Dialog")
    expect(refusal).to_contain_text("Cannot promote v1 of gated to staging")
    expect(refusal).to_contain_text("gated v1 was rejected: validation run")
    expect(refusal).to_contain_text("accuracy too low")
    refusal.get_by_role("button").last.click()
    assert api(lab, "/jobs/gated")["environments"] == {}
