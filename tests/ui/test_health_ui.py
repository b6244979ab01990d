"""Production ML that notices, in a real JupyterLab in a real Chromium (#22 part D).

A job with checks (accuracy min and max_drop, drift of a recorded data set) and gated promotion:
v1 is validated and promoted, two runs later one is degraded (accuracy below its bound, one
column of three drifted), v2 is rejected by its validation run (with the reason), v3 waits in
its validation run; another job fails. The jobs list shows each job's badge and the panel
header the overview; the versions show candidate → validating → promoted / rejected; the Health
tab draws accuracy with its bounds, the drift per column across runs and the latest drift report;
the run view lists a run's checks. Light and dark. Screenshots: tests/ui/artifacts/health-*.png
(copied to docs/screenshots/).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.ui.conftest import ARTIFACTS, REPO, TOKEN, set_theme, settled
from tests.ui.test_project_ui import PANEL, api, hide_notifications, post

LONG = 60_000

CHECKS = {"accuracy": {"min": 0.8, "max_drop": 0.1},
          "features": {"drift": {"max_share": 0.3}}}


def code(src: str, tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "source": src, "metadata": {"tags": tags or []},
            "outputs": [], "execution_count": None}


def watched(acc: float, gate: str = "") -> str:
    """A model's notebook: records accuracy and a data set (income shifted by ``shift``); with
    ``gate`` its run waits until that file exists (the test holds a validation run with it)."""
    return json.dumps({
        "cells": [
            code(f"acc = {acc}\nshift = 0.0\ngate = {gate!r}", ["parameters"]),
            code("import os, time\nimport numpy as np, pandas as pd\n"
                 "from jupyter_ml_ship import record, record_data\n"
                 "while gate and not os.path.exists(gate):\n    time.sleep(0.05)"),
            code("rng = np.random.default_rng(7)\nn = 1200\n"
                 "features = pd.DataFrame({'age': rng.normal(40, 8, n),\n"
                 "    'income': rng.normal(50 + shift * 10, 10, n),\n"
                 "    'plan': rng.choice(['basic', 'plus', 'pro'], n)})\n"
                 "record('accuracy', acc)\nrecord_data('features', features)"),
        ],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "ml_ship": {"checks": CHECKS,
                                 "promote": {"not_worse": {"accuracy": 0.02}}}},
    })


def until(what: Callable[[], Any], why: str, timeout: float = 120) -> Any:
    """Poll the server until ``what()`` is truthy (a run's end, a version's decision)."""
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        assert time.monotonic() < deadline, why
        time.sleep(0.2)


def ended(lab, run_id: str) -> dict:
    return until(lambda: (lambda r: r if r["status"] in ("succeeded", "failed", "cancelled",
                                                          "timed_out") else None)(
        api(lab, f"/runs/{run_id}")), f"run {run_id} did not end")


def decided(lab, job: str, n: int) -> dict:
    return until(lambda: (lambda v: v if v["promotion"] in ("promoted", "rejected") else None)(
        api(lab, f"/jobs/{job}/versions/{n}")), f"{job} v{n} was not decided")


def widen_side_panel(page, to: int = 560) -> None:
    """Drag the left side panel's edge so that the charts have room (as a user would)."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").first
    box = handle.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(to, y, steps=4)
    page.mouse.up()
    page.wait_for_function(f"document.querySelector('.jp-MlShip-panel').offsetWidth > {to - 120}")


#: the shots the README shows (docs/screenshots/health-NAME.png)
README_SHOTS = {"jobs-list", "tab", "drift", "run-checks", "versions-promotion", "tab-dark"}


def shot(locator, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"health-{name}.png"))
    if name in README_SHOTS:
        shutil.copy(ARTIFACTS / f"health-{name}.png", REPO / "docs" / "screenshots")


def test_health_badges_tab_checks_and_promotion_light_and_dark(page, lab):
    gate = lab.root / "release-v3"
    # the lab is shared by the browser tests: jobs other tests left count in the overview too
    before = api(lab, "/jobs")["jobs"]
    failing_before = sum(1 for j in before if (j.get("last_run") or {}).get("status")
                         in ("failed", "timed_out"))
    degraded_before = sum(1 for j in before if (j.get("last_run") or {}).get("status")
                          == "succeeded" and j["last_run"].get("health") == "degraded")
    # v1: a candidate, validated and promoted (nothing to compare with yet)
    (lab.root / "watched.ipynb").write_text(watched(0.92))
    first = post(lab, "/ship", {"path": "watched.ipynb", "name": "watched"})
    assert first["version"]["promotion"] in ("candidate", "validating"), first["version"]
    v1 = decided(lab, "watched", 1)
    assert v1["promotion"] == "promoted", v1
    healthy = ended(lab, post(lab, "/runs", {"job": "watched", "parameters": {"acc": 0.91}})["id"])
    assert healthy["health"] == "healthy", healthy["checks"]
    bad = ended(lab, post(lab, "/runs", {"job": "watched",
                                         "parameters": {"acc": 0.75, "shift": 2.0}})["id"])
    assert bad["health"] == "degraded", bad["checks"]
    failed = {(c["name"], c["rule"]) for c in bad["checks"] if not c["passed"]}
    assert failed == {("accuracy", "min"), ("accuracy", "max_drop"), ("features", "drift")}, failed
    # v2: worse than v1 by more than not_worse allows: rejected, with the reason
    (lab.root / "watched.ipynb").write_text(watched(0.86))
    post(lab, "/ship", {"path": "watched.ipynb", "name": "watched", "message": "smaller model"})
    v2 = decided(lab, "watched", 2)
    assert v2["promotion"] == "rejected" and "not_worse" in v2["promotion_reason"], v2
    # another job whose last run failed
    (lab.root / "broken.ipynb").write_text(json.dumps({
        "cells": [code("raise ValueError('no rows today')")], "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}}}))
    post(lab, "/ship", {"path": "broken.ipynb", "name": "broken"})
    ended(lab, post(lab, "/runs", {"job": "broken"})["id"])
    # a job whose last run is degraded
    (lab.root / "scores.ipynb").write_text(json.dumps({
        "cells": [code("from jupyter_ml_ship import record\nrecord('score', 0.4)")],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "ml_ship": {"checks": {"score": {"min": 0.5}}}}}))
    post(lab, "/ship", {"path": "scores.ipynb", "name": "scores"})
    ended(lab, post(lab, "/runs", {"job": "scores"})["id"])
    # v3: its validation run is held until the test releases it
    (lab.root / "watched.ipynb").write_text(watched(0.93, str(gate)))
    third = post(lab, "/ship", {"path": "watched.ipynb", "name": "watched",
                                "message": "more data"})
    try:
        until(lambda: api(lab, "/jobs/watched/versions/3")["promotion"] == "validating",
              "v3's validation run did not start")
        page.goto(f"{lab.url}lab?token={TOKEN}&reset")
        page.locator(PANEL).first.click()
        hide_notifications(page)
        widen_side_panel(page)
        panel = page.locator(".jp-MlShip-panelBody")
        # the jobs list: a badge per job, the overview in the panel header
        expect(panel.locator("li[data-job='watched'] [data-health]")).to_have_text(
            "validating", timeout=LONG)
        # failing is the status chip's to say in the list (the overview counts it)
        expect(panel.locator("li[data-job='broken'] [data-health]")).to_have_count(0)
        expect(panel.locator("li[data-job='broken']")).to_contain_text("failed")
        expect(panel.locator("li[data-job='scores'] [data-health]")).to_have_text("degraded")
        overview = page.locator(".jp-MlShip-headerHealth")
        expect(overview.locator("[data-health-count]")).to_have_text(
            [f"{1 + failing_before} failing", f"{1 + degraded_before} degraded", "1 validating"])
        settled(page)
        shot(page.locator(".jp-MlShip-panel"), "jobs-list")

        # the versions: v3 validating, v2 rejected with its reason, v1 promoted
        panel.locator("li[data-job='watched'] button").first.click()
        panel.get_by_role("tab", name="Versions (3)").click()
        versions = panel.locator(".jp-MlShip-versions")
        expect(versions.locator("li[data-version='3'] [data-promotion-state]")).to_have_text(
            "validating")
        expect(versions.locator("li[data-version='2'] [data-promotion-state]")).to_have_text(
            "rejected")
        expect(versions.locator("li[data-version='2'] .jp-MlShip-promotionReason")).to_contain_text(
            "more than the tolerance 0.02 (not_worse)")
        expect(versions.locator("li[data-version='1'] [data-promotion-state]")).to_have_text(
            "promoted")
        settled(page)
        shot(page.locator(".jp-MlShip-panel"), "versions-promotion")

        # the Health tab: accuracy with its bounds, drift per column, the latest report
        panel.get_by_role("tab", name="Health").click()
        health = panel.locator(".jp-MlShip-health[data-health-job='watched']")
        expect(health.locator("[data-health-counts]")).to_contain_text("1 degraded", timeout=LONG)
        chart = health.locator(".jp-MlShip-healthChart[data-output='accuracy'] canvas")
        expect(chart).to_be_visible()
        datasets = page.evaluate("""() => document.querySelector(
            ".jp-MlShip-healthChart[data-output='accuracy'] canvas").mlShipChart.data.datasets
            .map(d => [d.label, d.data.map(p => p.y)])""")
        assert datasets[0][0] == "accuracy" and datasets[0][1][:3] == [0.92, 0.91, 0.75], datasets
        assert datasets[1] == ["min 0.8", [0.8, 0.8]], datasets
        assert datasets[2][0] == "max_drop 0.1 (from the baseline)", datasets
        drift = health.locator("table[data-drift='features']")
        income = drift.locator("tr[data-column='income'] td")
        # a column per run that measured drift (v1's validation run had no reference yet):
        # 0.91, the shifted one, v2's validation run
        expect(drift.locator("thead th")).to_have_count(4)
        expect(income.nth(1)).to_have_attribute("data-drifted", "true")
        expect(income.nth(0)).to_have_attribute("data-drifted", "false")
        expect(drift.locator("tr[data-column='age'] td").nth(1)).to_have_attribute(
            "data-drifted", "false")
        report = health.locator(".jp-MlShip-driftReport")
        expect(report).to_have_attribute("data-report", "drift-features.html")
        settled(page)
        shot(page.locator(".jp-MlShip-panel"), "tab")
        report.evaluate("e => e.scrollIntoView({block: 'end'})")
        expect(page.frame_locator(".jp-MlShip-driftFrame").locator("body")).to_contain_text(
            "income", timeout=LONG)
        settled(page)
        shot(page.locator(".jp-MlShip-panel"), "drift")

        # the run view lists the degraded run's checks
        panel.get_by_role("tab", name="Runs").click()
        panel.locator(f"li[data-run='{bad['id']}'] button").click()
        checks = page.locator(f".jp-MlShip-runBody[data-run='{bad['id']}'] .jp-MlShip-runChecks")
        expect(checks.locator("h3 [data-health]")).to_have_text("degraded: 3 of 3 failed",
                                                                 timeout=LONG)
        expect(checks.locator("tr[data-passed='false'] th")).to_have_text(
            ["accuracy", "accuracy", "features"])
        settled(page)
        shot(checks, "run-checks")

        # release v3's validation run: promoted, the lab follows
        gate.write_text("go")
        expect(panel.locator(".jp-MlShip-jobHeader [data-health]")).to_have_text(
            "healthy", timeout=LONG)
        panel.get_by_role("tab", name="Versions (3)").click()
        expect(versions.locator("li[data-version='3'] [data-promotion-state]")).to_have_text(
            "promoted", timeout=LONG)
        expect(panel.locator(".jp-MlShip-jobHeader [data-current-version]")).to_have_text("v3")

        # dark: the Health tab and the jobs list
        set_theme(page, "JupyterLab Dark")
        panel.get_by_role("tab", name="Health").click()
        expect(health.locator("[data-health-counts]")).to_contain_text("5 runs")
        settled(page)
        shot(page.locator(".jp-MlShip-panel"), "tab-dark")
        bg = page.evaluate("getComputedStyle(document.querySelector('.jp-MlShip-healthChart'))"
                           ".backgroundColor")
        assert bg != "rgb(255, 255, 255)", bg
        panel.get_by_role("button", name="All jobs").click()
        expect(panel.locator("li[data-job='watched'] [data-health]")).to_have_text("healthy")
        settled(page)
        shot(page.locator(".jp-MlShip-panel"), "jobs-list-dark")
        set_theme(page, "JupyterLab Light")
    finally:
        gate.write_text("go")
        if third.get("run"):
            ended(lab, third["run"]["id"])
