"""The lab as a user meets it (issue 13, items 6-11): the Ship dialog's schedule and environment,
one tab per run, the jobs list that scales, versions, the dark theme, the parameters tag.

Screenshots in the light and dark themes: tests/ui/artifacts/ (the best in docs/screenshots/).
"""

from __future__ import annotations

import json

from tests.ui.test_lab_fixes import keep, open_lab, open_panel, set_theme, wait_run, write_notebook
from tests.ui.test_lab_flow import LONG, api, open_notebook, post, ship_dialog


def dialog_ship_enabled(dialog) -> bool:
    return dialog.get_by_role("button", name="Ship", exact=True).is_enabled()


# 6. The Ship dialog: tall enough, schedule / env / secrets / requirements, defaults shown


def test_the_ship_dialog_edits_schedule_env_secrets_and_requirements(page, lab):
    write_notebook(lab.root / "nightly.ipynb", "print('nightly')", params="n = 1")
    nb = json.loads((lab.root / "nightly.ipynb").read_text())
    nb["metadata"]["ml_ship"] = {"retries": 2}
    (lab.root / "nightly.ipynb").write_text(json.dumps(nb))
    open_notebook(page, lab, "nightly.ipynb")
    dialog = ship_dialog(page)
    content = dialog.locator(".jp-Dialog-content")
    # on a 900 px window the dialog uses the height and its body scrolls
    assert content.bounding_box()["height"] > 700, content.bounding_box()
    body = dialog.locator(".jp-Dialog-body")
    assert body.evaluate("b => getComputedStyle(b).overflowY") in ("auto", "scroll")

    # an emptied integer field shows its default
    retries = dialog.locator("#jp-MlShip-retries")
    assert retries.input_value() == "2"
    retries.fill("")
    assert retries.get_attribute("placeholder") == "0 (default)"
    assert dialog.locator("#jp-MlShip-timeout").get_attribute("placeholder") == "none (default)"

    # the schedule is checked as it is typed, with the next run
    schedule = dialog.locator("#jp-MlShip-schedule")
    schedule.fill("0 25 * * *")
    error = dialog.locator(".jp-MlShip-field-error", has_text="hour: 25 is not within 0–23")
    error.wait_for()
    assert not dialog_ship_enabled(dialog)
    keep(page, "ship-dialog-schedule-error", content)
    schedule.fill("30 6 * * mon-fri")
    hint = dialog.locator("[data-schedule-hint]")
    hint.filter(has_text="Next run:").wait_for()
    assert "06:30 UTC" in hint.inner_text()
    assert dialog_ship_enabled(dialog)

    # env rows, secrets, requirements
    dialog.get_by_role("button", name="+ Add a variable").click()
    dialog.get_by_label("Variable 1 name").fill("2BAD")
    dialog.locator(".jp-MlShip-envError").wait_for()
    assert not dialog_ship_enabled(dialog)
    dialog.get_by_label("Variable 1 name").fill("MODE")
    dialog.get_by_label("Variable 1 value").fill("nightly run")
    dialog.get_by_role("button", name="+ Add a variable").click()
    dialog.get_by_label("Variable 2 name").fill("EXTRA")
    dialog.get_by_label("Remove variable 2").click()
    assert dialog.locator("[data-env-row]").count() == 1
    dialog.locator("#jp-MlShip-secrets").fill("DB_PASSWORD, API_TOKEN")
    dialog.locator("#jp-MlShip-requirementsMode").select_option("list")
    dialog.get_by_label("Requirements, one a line").fill("nbformat\npapermill")
    body.evaluate("b => b.scrollTop = b.scrollHeight")
    keep(page, "ship-dialog", content)
    dialog.get_by_role("button", name="Ship", exact=True).click()
    page.locator(".Toastify__toast").filter(has_text="Shipped nightly v1").wait_for(timeout=30_000)

    config = api(lab, "/jobs/nightly/versions/1")["config"]
    assert config["schedule"] == "30 6 * * mon-fri"
    assert config["env"] == {"MODE": "nightly run"}
    assert config["secrets"] == ["DB_PASSWORD", "API_TOKEN"]
    assert config["requirements"] == ["nbformat", "papermill"]
    assert "retries" not in config  # emptied: the default, explicitly
    job = api(lab, "/jobs/nightly")
    assert job["schedule"] == "30 6 * * mon-fri" and job["next_run"]

    # the next Ship dialog starts from what the notebook now holds (dark theme)
    set_theme(page, "JupyterLab Dark")
    page.locator(".jp-NotebookPanel").first.click()
    dialog = ship_dialog(page)
    assert dialog.locator("#jp-MlShip-schedule").input_value() == "30 6 * * mon-fri"
    assert dialog.get_by_label("Variable 1 value").input_value() == "nightly run"
    assert dialog.get_by_label("Requirements, one a line").input_value() == "nbformat\npapermill"
    dialog.locator(".jp-Dialog-body").evaluate("b => b.scrollTop = b.scrollHeight")
    keep(page, "ship-dialog-dark", dialog.locator(".jp-Dialog-content"))
    dialog.get_by_role("button", name="Cancel").click()
    set_theme(page, "JupyterLab Light")


# 7. One tab per run; one "Runs" tab follows the latest run; a run that is gone explains


def run_tabs(page):
    return page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-MlShip-runTab")


def start_from_dialog(page, before: str = "") -> str:
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_role("button", name="Run", exact=True).click()
    dialog.wait_for(state="detached")
    body = page.locator(".jp-MlShip-latestRunView:not(.lm-mod-hidden) "
                        f".jp-MlShip-runBody[data-run]:not([data-run='{before}'])")
    body.wait_for(timeout=LONG)
    return body.get_attribute("data-run")


def test_runs_reuse_one_runs_tab_and_each_run_has_at_most_one_tab(page, lab):
    write_notebook(lab.root / "tabs.ipynb", "print('tab run')", params="n = 1")
    post(lab, "/ship", {"path": "tabs.ipynb", "name": "tabs"})
    open_lab(page, lab)
    panel = open_panel(page)
    panel.get_by_text("tabs", exact=True).first.click()
    panel.get_by_role("button", name="Run", exact=True).click()
    first = start_from_dialog(page)
    assert run_tabs(page).count() == 1
    assert run_tabs(page).first.inner_text().startswith("Runs: tabs #")
    wait_run(lab, first)

    # Re-run from the Runs tab: the same tab shows the new run
    latest = page.locator(".jp-MlShip-latestRunView")
    latest.locator(".jp-Toolbar").get_by_text("Re-run").click()
    second = start_from_dialog(page, first)
    assert second != first
    assert run_tabs(page).count() == 1
    wait_run(lab, second)
    latest.locator(f".jp-MlShip-runBody[data-run='{second}'][data-status='succeeded']").wait_for()

    # Keep open: the run gets its own tab, the next run goes to a new Runs tab
    latest.locator(".jp-Toolbar").get_by_text("Keep open").click()
    kept = page.locator(f"#jp-MlShip-run-{second}")
    kept.wait_for()
    assert not run_tabs(page).first.inner_text().startswith("Runs:")
    assert not kept.locator(".jp-Toolbar").get_by_text("Keep open").is_visible()
    kept.locator(".jp-Toolbar").get_by_text("Re-run").click()
    third = start_from_dialog(page, second)
    assert run_tabs(page).count() == 2
    wait_run(lab, third)

    # opening runs from the panel: the kept one is activated, another shows in the Runs tab
    panel = open_panel(page)
    panel.locator(f".jp-MlShip-runs li[data-run='{first}'] button").first.click()
    page.locator(f".jp-MlShip-latestRunView .jp-MlShip-runBody[data-run='{first}']").wait_for()
    panel.locator(f".jp-MlShip-runs li[data-run='{second}'] button").first.click()
    page.locator(f"#jp-MlShip-run-{second}:not(.lm-mod-hidden)").wait_for()
    assert run_tabs(page).count() == 2
    page.shot("07-runs-tab")

    # the job is deleted: after a reload the restored tabs say so instead of a red error
    page.wait_for_timeout(1000)  # the layout is saved
    request = __import__("urllib.request").request
    with request.urlopen(request.Request(lab.api("/jobs/tabs"), method="DELETE"), timeout=30):
        pass
    page.reload()
    gone = page.locator(f"[data-gone='{second}']")
    page.locator(f".lm-TabBar-tab[data-id='jp-MlShip-run-{second}']").click()
    gone.wait_for(timeout=60_000)
    assert "no longer exists" in gone.inner_text()
    assert page.locator(".jp-MlShip-runWidget .jp-MlShip-notice-error").count() == 0
    keep(page, "run-gone", page.locator(f"#jp-MlShip-run-{second}"))
    gone.get_by_role("button", name="Close this tab").click()
    page.locator(f"#jp-MlShip-run-{second}").wait_for(state="detached")
