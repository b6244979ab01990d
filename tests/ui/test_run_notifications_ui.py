"""The run view shows the run's notifications and links to MLflow, in a real JupyterLab in a
real Chromium: its own lab, with a webhook secret pointing at a real local receiver that
always answers 500 and a real ``mlflow server`` on 127.0.0.1 as the tracking server.

Also a pipeline's runs as a table, a column group per step (same lab). Screenshots in
tests/ui/artifacts/.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.python.notify_harness import Receiver
from tests.ui.conftest import run_lab, set_theme, settled
from tests.ui.test_lab_fixes import open_lab, open_panel, wait_run, write_notebook
from tests.ui.test_lab_flow import LONG, api, post


@pytest.fixture(scope="module")
def receiver():
    rec = Receiver(fail=10**9)  # a target that keeps failing
    yield rec
    rec.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, receiver, mlflow_server):  # this module's own lab
    with run_lab(tmp_path_factory.mktemp("notify-lab"), {"TEAM_HOOK": receiver.url},
                 (f"--MlShip.mlflow_tracking_uri={mlflow_server}", "--MlShip.notify_backoff=1",
                  "--MlShip.notify_attempts=1000")) as running:
        yield running


def test_a_failing_webhook_shows_failing_on_the_run_and_the_run_links_to_mlflow(
        page, lab, receiver, mlflow_server):
    write_notebook(lab.root / "nightly.ipynb", "print('about to divide')", "x / 0",
                   params="x = 1")
    nb = lab.root / "nightly.ipynb"
    doc = json.loads(nb.read_text())
    doc["metadata"]["ml_ship"] = {"notify": {"on": ["failed"], "webhook": "TEAM_HOOK"}}
    nb.write_text(json.dumps(doc))
    post(lab, "/ship", {"path": "nightly.ipynb", "name": "nightly"})
    run = wait_run(lab, post(lab, "/runs", {"job": "nightly"})["id"])
    assert run["status"] == "failed"

    open_lab(page, lab)
    panel = open_panel(page)
    panel.get_by_text("nightly", exact=True).first.click()
    panel.locator(f".jp-MlShip-runs li[data-run='{run['id']}'] button").first.click()
    body = page.locator(f".jp-MlShip-runBody[data-run='{run['id']}']")
    body.wait_for(timeout=LONG)
    hook = body.locator(".jp-MlShip-delivery[data-channel='webhook']")
    hook.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector(\".jp-MlShip-delivery[data-channel='webhook']\")"
        "?.dataset.state === 'failing'", timeout=60_000)
    text = hook.inner_text()
    assert "failing" in text and "webhook TEAM_HOOK · on failed" in text, text
    assert "HTTP 500" in text
    assert "T0KEN-s3cret" not in body.inner_text()  # the URL, a secret, is never shown
    assert receiver.attempts >= 1
    # MLflow: logged once, the run view links to the run in the tracking server's UI
    link = body.locator("a.jp-MlShip-mlflowLink")
    link.wait_for(timeout=60_000)
    href = link.get_attribute("href") or ""
    assert href.startswith(f"{mlflow_server}/#/experiments/") and "/runs/" in href
    assert link.get_attribute("target") == "_blank"
    shown = api(lab, f"/runs/{run['id']}")["notifications"]
    assert {(n["channel"], n["url"]) for n in shown if n["channel"] == "mlflow"} == {
        ("mlflow", href)}
    body.locator(".jp-MlShip-runNotifications").scroll_into_view_if_needed()
    page.shot("n01-run-notifications")
    set_theme(page, "JupyterLab Dark")
    body.locator(".jp-MlShip-runNotifications").scroll_into_view_if_needed()
    settled(page)
    page.shot("n02-run-notifications-dark")
    set_theme(page, "JupyterLab Light")


PIPELINE = """
name: churn
parameters: {n: 2}
steps:
  prep:
    notebook: prep.ipynb
    parameters: {n: "{{ params.n }}"}
  train:
    notebook: train.ipynb
    depends_on: [prep]
    parameters: {rows: "{{ steps.prep.outputs.rows }}"}
"""


def test_a_pipelines_runs_table_has_a_column_group_per_step(page, lab):
    page.set_default_navigation_timeout(120_000)  # (a busy machine)
    rec = "from jupyter_ml_ship import record\n"
    write_notebook(lab.root / "prep.ipynb", rec + "record('rows', n * 100)", params="n = 1")
    write_notebook(lab.root / "train.ipynb",
                   rec + "record('accuracy', round(0.5 + rows / 10000, 3))",
                   params="rows = 0")
    (lab.root / "churn.pipeline.yaml").write_text(PIPELINE)
    post(lab, "/pipelines", {"path": "churn.pipeline.yaml"})
    ids = []
    for n in (2, 3):
        started = post(lab, "/pipelines/churn/runs", {"parameters": {"n": n}})
        deadline = time.monotonic() + 240
        while api(lab, f"/pipeline-runs/{started['id']}")["status"] not in (
                "succeeded", "failed", "cancelled"):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        ids.append(started["id"])

    open_lab(page, lab)
    panel = open_panel(page)
    panel.locator("li[data-pipeline='churn'] > button").first.click()
    panel.get_by_role("button", name="All runs as a table").click()
    view = page.locator(".jp-MlShip-history[data-job='churn']")
    view.wait_for(timeout=30_000)
    table = view.locator("table.jp-MlShip-runsTable")
    expect(table.locator("tbody tr")).to_have_count(2)
    groups = table.locator("thead th.jp-MlShip-stepGroup").all_inner_texts()
    assert groups == ["prep", "train"]
    second = [h.strip(" ▾▴") for h in table.locator("thead tr").nth(1)
              .locator("th").all_inner_texts()]
    assert second == ["Status", "Duration", "n", "rows", "Status", "Duration", "rows",
                      "accuracy"]
    newest = table.locator("tbody tr").first
    assert newest.get_attribute("data-run") == ids[1]
    cells = newest.locator("td").all_inner_texts()
    assert "0.53" in cells and "300" in cells  # train's accuracy, prep's rows
    assert newest.locator("td[data-step='train'][data-step-status='succeeded']").count() == 1
    settled(page)
    page.shot("n03-pipeline-runs-table")
    set_theme(page, "JupyterLab Dark")
    page.shot("n04-pipeline-runs-table-dark")
    set_theme(page, "JupyterLab Light")
    # a click on a step's status opens that step's run
    newest.locator("td[data-step='train'] button").click()
    page.locator(".jp-MlShip-runBody[data-status='succeeded']").first.wait_for(timeout=LONG)
