"""The lab as a user meets it (issue 13, items 6-11): the Ship dialog's schedule and environment,
one tab per run, the jobs list that scales, versions, the dark theme, the parameters tag.

Screenshots in the light and dark themes: tests/ui/artifacts/ (the best in docs/screenshots/).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request

from playwright.sync_api import expect

from tests.ui.conftest import TOKEN
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
    expect(run_tabs(page).first).not_to_have_text(re.compile("^Runs:"))
    expect(kept.locator(".jp-Toolbar").get_by_text("Keep open")).to_be_hidden()
    kept.locator(".jp-Toolbar").get_by_text("Re-run").click()
    third = start_from_dialog(page, second)
    expect(run_tabs(page)).to_have_count(2)
    wait_run(lab, third)

    # opening runs from the panel: the kept one is activated, another shows in the Runs tab
    panel = open_panel(page)
    panel.locator(f".jp-MlShip-runs li[data-run='{first}'] button").first.click()
    page.locator(f".jp-MlShip-latestRunView .jp-MlShip-runBody[data-run='{first}']").wait_for()
    panel.locator(f".jp-MlShip-runs li[data-run='{second}'] button").first.click()
    page.locator(f"#jp-MlShip-run-{second}:not(.lm-mod-hidden)").wait_for()
    expect(run_tabs(page)).to_have_count(2)
    page.shot("07-runs-tab")

    # the job is deleted: after a reload the restored tabs say so instead of a red error
    layout_saved_with(lab, f"ml-ship-run:{second}")
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


# 8. The jobs list: search, status filter, sort by last run, steps under their pipeline, delete;
#    pipeline versions and roll back; a step's run links to its pipeline run


def layout_saved_with(lab, key: str, timeout: float = 30) -> None:
    """Wait until the lab has saved its layout (the workspace, on the server) with ``key``."""
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"{lab.url}lab/api/workspaces/default?token={TOKEN}",
                                    timeout=30) as r:
            saved = r.read().decode()
        if key in saved:
            return
        assert time.monotonic() < deadline, f"{key} not in the saved layout: {saved[:2000]}"
        time.sleep(0.2)


def job_names(panel, expected=None) -> list[str]:
    """The jobs listed, once they are `expected` (a list, or a test of the list) or after 10 s
    as they are then."""
    deadline = time.monotonic() + 10
    while True:
        names = panel.locator("li[data-job]").evaluate_all(
            "items => items.map(i => i.dataset.job)")
        done = expected(names) if callable(expected) else names == expected
        if expected is None or done or time.monotonic() > deadline:
            return names
        time.sleep(0.1)


def wait_pipeline_run(lab, run_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api(lab, f"/pipeline-runs/{run_id}")
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.5)
    raise AssertionError(f"pipeline run {run_id} did not end")


def test_the_jobs_list_searches_filters_sorts_groups_and_deletes(page, lab):
    write_notebook(lab.root / "zeta_ok.ipynb", "print('ok')")
    write_notebook(lab.root / "alpha_bad.ipynb", "1 / 0")
    write_notebook(lab.root / "mid_never.ipynb", "print('never')")
    ok = post(lab, "/ship", {"path": "zeta_ok.ipynb", "name": "zeta-ok", "run": True})
    wait_run(lab, ok["run"]["id"])
    bad = post(lab, "/ship", {"path": "alpha_bad.ipynb", "name": "alpha-bad", "run": True})
    wait_run(lab, bad["run"]["id"])
    post(lab, "/ship", {"path": "mid_never.ipynb", "name": "mid-never"})
    (lab.root / "mini").mkdir(exist_ok=True)
    write_notebook(lab.root / "mini" / "one.ipynb", "print('one')", params="x = 1")
    write_notebook(lab.root / "mini" / "two.ipynb", "print('two')", params="x = 1")
    spec = ("name: mini\nsteps:\n  one:\n    notebook: one.ipynb\n  two:\n    notebook: two.ipynb\n"
            "    depends_on: [one]\n")
    (lab.root / "mini" / "mini.pipeline.yaml").write_text(spec)
    first = post(lab, "/pipelines", {"path": "mini/mini.pipeline.yaml", "message": "first"})
    step_jobs = [s["job"] for s in first["version"]["steps"]]
    (lab.root / "mini" / "mini.pipeline.yaml").write_text(spec + "    retries: 1\n")
    post(lab, "/pipelines", {"path": "mini/mini.pipeline.yaml", "message": "with retries"})
    prun = post(lab, "/pipelines/mini/runs", {})
    prun = wait_pipeline_run(lab, prun["id"])
    assert prun["status"] == "succeeded", prun

    open_lab(page, lab)
    panel = open_panel(page)
    panel.locator("li[data-job='zeta-ok']").wait_for()
    # steps are grouped under their pipeline, not among the other jobs
    group = panel.locator("[data-job-group='mini']")
    group.wait_for()
    assert sorted(job_names(group)) == sorted(step_jobs)
    top = panel.locator(".jp-MlShip-jobsBlock > .jp-MlShip-jobs")
    assert not set(step_jobs) & set(job_names(top))
    # the tooltip is the name
    assert panel.locator("li[data-job='zeta-ok'] > button").first.get_attribute("title") == "zeta-ok"

    panel.get_by_label("Search jobs").fill("alpha")
    assert job_names(top, ["alpha-bad"]) == ["alpha-bad"]
    panel.get_by_label("Search jobs").fill("")
    panel.get_by_label("Last run status").select_option("failed")

    # other tests of the session may have left failed jobs, and jobs that never ran, too
    def only_failed(names):
        return "alpha-bad" in names and not {"zeta-ok", "mid-never", *step_jobs} & set(names)

    failed = job_names(panel, only_failed)
    assert only_failed(failed), failed
    panel.get_by_label("Last run status").select_option("never")

    def only_never(names):
        return "mid-never" in names and not {"alpha-bad", "zeta-ok", *step_jobs} & set(names)

    never = job_names(panel, only_never)
    assert only_never(never), never
    panel.get_by_label("Last run status").select_option("all")
    panel.get_by_label("Sort jobs").select_option("last-run")

    def by_last_run(names):
        return {"alpha-bad", "zeta-ok", "mid-never"} <= set(names) and (
            names.index("alpha-bad") < names.index("zeta-ok") < names.index("mid-never"))

    names = job_names(top, by_last_run)
    assert by_last_run(names), names
    keep(page, "jobs-list", panel)

    # delete a job from the lab
    row = panel.locator("li[data-job='mid-never']")
    row.hover()
    row.get_by_role("button", name="Delete mid-never").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete mid-never").click()
    row.wait_for(state="detached")
    assert "mid-never" not in [j["name"] for j in api(lab, "/jobs")["jobs"]]

    # pipeline versions: the older one rolls back, then the newer one is "Make current"
    section = panel.locator(".jp-MlShip-pipelines")
    section.locator("li[data-pipeline='mini'] > button").click()
    versions = section.locator(".jp-MlShip-pipelineVersions")
    versions.wait_for()
    versions.get_by_role("button", name="Roll back to v1").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Roll back to v1").click()
    versions.locator("[data-pipeline-version='1'] .jp-MlShip-currentMark").wait_for()
    assert api(lab, "/pipelines/mini")["current_version"] == 1
    versions.locator("[data-pipeline-version='2']").get_by_role("button", name="Make current").wait_for()
    keep(page, "pipeline-versions", panel)
    set_theme(page, "JupyterLab Dark")
    keep(page, "jobs-list-dark", panel)
    set_theme(page, "JupyterLab Light")
    versions.locator("[data-pipeline-version='2']").get_by_role("button", name="Make current").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Make current").click()
    versions.locator("[data-pipeline-version='2'] .jp-MlShip-currentMark").wait_for()

    # a step's run links back to its pipeline run
    step_run = next(s["run_id"] for s in prun["steps"] if s["id"] == "two")
    group = panel.locator("[data-job-group='mini']")
    group.locator(f"li[data-job='{next(s['job'] for s in prun['steps'] if s['id'] == 'two')}'] > button").first.click()
    panel.locator(f".jp-MlShip-runs li[data-run='{step_run}'] button").first.click()
    body = page.locator(f".jp-MlShip-runBody[data-run='{step_run}']")
    body.wait_for(timeout=LONG)
    body.locator(".jp-MlShip-pipelineRunLink").click()
    page.locator(".jp-MlShip-pipelineView").last.wait_for(timeout=30_000)
    page.shot("08-step-to-pipeline-run")
