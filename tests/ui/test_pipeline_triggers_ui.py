"""A pipeline file's triggers in the lab (#23): shipping it from the pipeline view shows its new
webhook's URL once, the view's header lists its triggers, and the URL starts a pipeline run."""

from __future__ import annotations

import json
import urllib.request

from tests.ui.conftest import TOKEN

SOURCE = (
    "name: hooked\n"
    "parameters: {trigger_file: \"\"}\n"
    "triggers:\n"
    "  - {webhook: true}\n"
    "  - {files: \"hooked-incoming/*.csv\"}\n"
    "steps:\n"
    "  greet:\n"
    "    notebook: hello.ipynb\n"
    "    parameters: {name: \"hook\"}\n"
)


def test_a_pipelines_webhook_is_shown_once_and_its_triggers_are_in_the_view(page, lab):
    (lab.root / "hooked.pipeline.yaml").write_text(SOURCE)
    page.goto(f"{lab.url}lab/tree/hooked.pipeline.yaml?token={TOKEN}&reset")
    view = page.locator(".jp-MlShip-pipelineView[data-path='hooked.pipeline.yaml']")
    view.locator(".jp-MlShip-graph[data-steps='1']").wait_for(timeout=90_000)
    # never shipped: no triggers listed yet
    assert view.locator(".jp-MlShip-triggers").count() == 0

    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Run pipeline").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".jp-MlShip-pipelineRunForm").wait_for()
    dialog.get_by_role("button", name="Run pipeline").click()

    # the ship made the webhook: its URL, shown this once
    url = page.locator(".jp-Dialog .jp-MlShip-triggerToken code[data-trigger-url]")
    url.wait_for(timeout=60_000)
    hook = url.get_attribute("data-trigger-url")
    assert "/ml-ship/api/triggers/" in hook, hook
    assert "hooked" in page.locator(".jp-Dialog .jp-Dialog-header").inner_text()
    page.shot("pipeline-webhook")
    page.locator(".jp-Dialog").get_by_role("button", name="Close").click()

    # the header lists the file's triggers
    triggers = view.locator(".jp-MlShip-triggers")
    triggers.locator("[data-trigger='webhook']").wait_for()
    assert "new files hooked-incoming/*.csv" in triggers.locator(
        "[data-trigger='files']").inner_text()
    page.locator(".jp-MlShip-pipelineRunBar[data-status='succeeded']").wait_for(timeout=120_000)
    first = page.locator(".jp-MlShip-pipelineRunBar").get_attribute("data-pipeline-run")
    page.shot("pipeline-triggers")

    # the URL (no Jupyter token: the secret is the credential) starts a pipeline run
    request = urllib.request.Request(_absolute(lab, hook), data=json.dumps({}).encode(),
                                     method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status in (200, 201, 202), answer.status
        started = json.load(answer)
    listed = json.load(urllib.request.urlopen(lab.api("/pipeline-runs"), timeout=30))
    runs = [r for r in listed.get("runs", []) if r["pipeline"] == "hooked"]
    assert len(runs) >= 2 and any(r["id"] != first for r in runs), (started, runs)


def _absolute(lab, hook: str) -> str:
    """The dialog's URL is made from the lab's base URL: a path, or a full URL."""
    if hook.startswith("http"):
        return hook
    return lab.url.rstrip("/") + "/" + hook.lstrip("/")
