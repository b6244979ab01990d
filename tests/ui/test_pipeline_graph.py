"""The pipeline graph in a real JupyterLab in a real Chromium.

Open ``churn.pipeline.yaml``: its three steps laid out left to right with their edges; Run
pipeline with a parameter; every step turns green (succeeded) live; click a step and read its
run's log (the value flowed from prepare to train); the side panel lists the pipeline and opens
the run's graph; a file with a dependency cycle shows the cycle. Screenshots: tests/ui/artifacts/.
"""

from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import expect

from tests.ui.conftest import TOKEN, set_theme
from tests.ui.test_lab_fixes import keep

LONG = 150_000  # ms: three notebooks, each a kernel start on a busy 2-core machine


def api(lab, path: str):
    with urllib.request.urlopen(lab.api(path), timeout=30) as r:
        return json.loads(r.read())


def open_file(page, lab, name: str) -> None:
    page.goto(f"{lab.url}lab/tree/{name}?token={TOKEN}&reset")
    page.locator(".jp-MlShip-pipelineView").first.wait_for(timeout=90_000)


def box(node) -> dict:
    b = node.bounding_box()
    assert b is not None
    return b


def test_pipeline_graph_runs_live_to_all_green(page, lab):
    open_file(page, lab, "churn.pipeline.yaml")
    graph = page.locator(".jp-MlShip-graph[data-steps='3']")
    graph.wait_for()
    nodes = graph.locator(".jp-MlShip-graphNode")
    assert nodes.count() == 3
    edges = sorted(graph.locator(".jp-MlShip-graphEdge").evaluate_all(
        "els => els.map(e => e.dataset.edge)"))
    assert edges == ["prepare->evaluate", "prepare->train", "train->evaluate"]
    # laid out by the graph library: upstream steps left of their dependents
    x = {s: box(graph.locator(f"[data-step='{s}']"))["x"] for s in ("prepare", "train", "evaluate")}
    assert x["prepare"] < x["train"] < x["evaluate"], x
    assert "train" in graph.locator("[data-step='train']").inner_text()
    page.shot("01-graph")

    # Run pipeline: the form has the pipeline's parameters with their defaults
    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Run pipeline").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".jp-MlShip-pipelineRunForm").wait_for()
    # the dialog focuses its first input once shown: type only after that
    page.wait_for_function("() => document.activeElement?.id === 'jp-MlShip-param-day'")
    assert dialog.locator("#jp-MlShip-param-day").input_value() == "2024-01-01"
    assert dialog.locator("#jp-MlShip-param-rows").input_value() == "500"
    dialog.locator("#jp-MlShip-param-rows").fill("300")
    dialog.locator("#jp-MlShip-param-day").fill("2024-02-01")
    page.shot("02-run-dialog")
    dialog.get_by_role("button", name="Run pipeline").click()

    bar = page.locator(".jp-MlShip-pipelineRunBar[data-pipeline-run]")
    bar.wait_for(timeout=LONG)
    run_id = bar.get_attribute("data-pipeline-run")
    # live: a step is seen active before the end (statuses come from server events)
    active = graph.locator(
        ".jp-MlShip-graphNode[data-status='running'], .jp-MlShip-graphNode[data-status='starting'],"
        " .jp-MlShip-graphNode[data-status='queued'], .jp-MlShip-graphNode[data-status='succeeded']"
    )
    active.first.wait_for(timeout=LONG)
    page.shot("03-running")
    page.locator(".jp-MlShip-pipelineRunBar[data-status='succeeded']").wait_for(timeout=LONG)
    for step in ("prepare", "train", "evaluate"):
        node = graph.locator(f"[data-step='{step}'][data-status='succeeded']")
        node.wait_for(timeout=30_000)
        assert node.locator(".jp-MlShip-status").inner_text() == "succeeded"
    expect(graph.locator(".jp-MlShip-graphEdge-succeeded")).to_have_count(3)
    page.shot("04-all-green")

    # the server agrees, with the parameter given in the form
    run = api(lab, f"/pipeline-runs/{run_id}")
    assert run["status"] == "succeeded"
    assert run["parameters"] == {"day": "2024-02-01", "rows": 300}
    steps = {s["id"]: s for s in run["steps"]}
    assert steps["prepare"]["outputs"]["rows"] == 300

    # each box names its step once (job and step share the name: the version alone follows)
    # and shows what its run recorded, e.g. "accuracy: 0.93"
    for step in ("prepare", "train", "evaluate"):
        node = graph.locator(f"[data-step='{step}']")
        head = node.evaluate("n => { const c = n.cloneNode(true);"
                             " c.querySelector('dl')?.remove(); return c.textContent; }")
        assert head.count(step) == 1, head
        assert re.fullmatch(r"v\d+", node.locator(".jp-MlShip-graphNode-sub").inner_text())
        recorded = list(steps[step]["outputs"].items())
        assert recorded, step
        for name, value in recorded[:3]:
            shown = node.locator(f".jp-MlShip-graphNode-outputs [data-output='{name}']")
            text = value if isinstance(value, str) else json.dumps(value)
            assert shown.locator("dt").inner_text() == f"{name}:"
            assert shown.locator("dd").inner_text() == (text if len(text) <= 40
                                                         else text[:39] + "…")
    assert graph.locator("[data-step='train'] [data-output='accuracy']").is_visible()
    keep(page, "pipeline-graph")

    # a narrow pane: the graph is fitted into it, all of it in view; 100% shows the text at its
    # size (at least 11 px) and a drag on the background pans to what is out of view
    page.set_viewport_size({"width": 760, "height": 900})
    pane = graph.locator("xpath=ancestor::div[contains(@class, 'jp-MlShip-graphViewport')]")
    page.wait_for_function("p => p.dataset.zoom < 1", arg=pane.element_handle())

    def in_pane(step: str) -> bool:
        p, n = box(pane), box(graph.locator(f"[data-step='{step}']"))
        return p["x"] - 1 <= n["x"] and n["x"] + n["width"] <= p["x"] + p["width"] + 1

    assert all(in_pane(s) for s in ("prepare", "train", "evaluate"))
    page.shot("04b-narrow")
    pane.get_by_role("button", name="100%").click()
    assert pane.get_attribute("data-zoom") == "1.00"
    sizes = graph.locator(".jp-MlShip-graphNode-id, .jp-MlShip-graphNode-sub,"
                          " .jp-MlShip-graphNode-outputs").evaluate_all(
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes and min(sizes) >= 11, sizes
    p = box(pane)
    while not in_pane("evaluate"):
        page.mouse.move(p["x"] + p["width"] - 12, p["y"] + p["height"] - 12)
        page.mouse.down()
        page.mouse.move(p["x"] + p["width"] - 212, p["y"] + p["height"] - 12, steps=4)
        page.mouse.up()
        assert box(graph.locator("[data-step='evaluate']"))["x"] > p["x"], "panned too far"
    set_theme(page, "JupyterLab Dark")
    page.shot("04c-narrow-dark")
    set_theme(page, "JupyterLab Light")
    page.set_viewport_size({"width": 1400, "height": 900})
    pane.get_by_role("button", name="Fit").click()

    # click a step: its run view with the log (the rows prepared upstream reached train)
    train = graph.locator("[data-step='train']")
    # statuses come with the server's events, run ids with the fetch that follows (≤ 200 ms)
    expect(train).to_have_attribute("data-run", steps["train"]["run_id"], timeout=30_000)
    train.click()
    body = page.locator(f".jp-MlShip-runBody[data-run='{steps['train']['run_id']}']")
    body.wait_for(timeout=30_000)
    body.locator(".jp-MlShip-log").get_by_text("training on 300 customers").wait_for(timeout=30_000)
    expect(body).to_have_attribute("data-status", "succeeded")
    page.shot("05-step-run")

    # the side panel lists the pipeline; its run opens the run's graph
    page.locator(".jp-SideBar li[title*='ML Ship']").first.click()
    section = page.locator(".jp-MlShip-pipelines")
    item = section.locator("li[data-pipeline='churn'] > .jp-MlShip-item")
    item.wait_for(timeout=30_000)
    item.locator(".jp-MlShip-status", has_text="succeeded").wait_for(timeout=30_000)
    item.click()
    section.get_by_text("Open churn.pipeline.yaml").wait_for()
    section.locator(f"li[data-pipeline-run='{run_id}'] .jp-MlShip-item").click()
    view = page.locator(f"#jp-MlShip-pipelineRun-{run_id}")
    view.locator(".jp-MlShip-graph[data-steps='3']").wait_for()
    expect(view.locator(".jp-MlShip-graphNode[data-status='succeeded']")).to_have_count(3)
    page.shot("06-panel-run-view")

    # the same run again: the dialog starts from the last run's values, and every step
    # reuses its earlier results (cached), at once
    page.locator(".lm-TabBar-tab", has_text="churn.pipeline.yaml").click()
    doc = page.locator(
        ".jp-MlShip-pipelineWidget:has(.jp-MlShip-pipelineView[data-path='churn.pipeline.yaml'])")
    doc.locator(".jp-Toolbar").get_by_text("Run pipeline").click()
    dialog.locator(".jp-MlShip-pipelineRunForm").wait_for()
    page.wait_for_function("() => document.activeElement?.id === 'jp-MlShip-param-day'")
    assert f"pipeline run #{run_id[-6:]} (v1, succeeded)" in dialog.locator(
        ".jp-MlShip-initialFrom").inner_text()
    assert dialog.locator("#jp-MlShip-param-rows").input_value() == "300"
    assert dialog.locator("#jp-MlShip-param-day").input_value() == "2024-02-01"
    page.shot("06a-run-dialog-from-last-run")
    dialog.get_by_role("button", name="Run pipeline").click()
    again = doc.locator(".jp-MlShip-pipelineRunBar[data-status='succeeded']"
                        f":not([data-pipeline-run='{run_id}'])")
    again.wait_for(timeout=LONG)
    cached = doc.locator(".jp-MlShip-graphNode[data-status='succeeded'] .jp-MlShip-cached")
    expect(cached).to_have_count(3)
    page.shot("06b-cached-rerun")

    set_theme(page, "JupyterLab Dark")
    page.shot("07-dark")
    set_theme(page, "JupyterLab Light")

    # reopened, the file's graph offers its last run; the text editor is one click away
    open_file(page, lab, "churn.pipeline.yaml")
    last = page.locator(".jp-MlShip-pipelineRunBar", has_text="Last run")
    last.locator(".jp-MlShip-status", has_text="succeeded").wait_for(timeout=30_000)
    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Open as text").click()
    page.locator(".jp-FileEditor .cm-content", has_text="name: churn").wait_for(timeout=30_000)


def open_invalid(page, lab, name: str, *lines: str):
    """Write a pipeline file that does not validate, open it; the error box it shows."""
    (lab.root / name).write_text("".join(f"{line}\n" for line in lines))
    open_file(page, lab, name)
    error = page.locator(".jp-MlShip-pipelineInvalid")
    error.wait_for(timeout=30_000)
    return error


def test_a_cycle_is_shown_as_an_error_with_its_loop(page, lab):
    error = open_invalid(page, lab, "loop.pipeline.yaml",
                         "name: loop",
                         "steps:",
                         "  a: {notebook: hello.ipynb, depends_on: [c]}",
                         "  b: {notebook: hello.ipynb, depends_on: [a]}",
                         "  c: {notebook: hello.ipynb, depends_on: [b]}")
    # one problem, worded alike by the file check (at once) and the server (a moment later)
    expect(error).to_contain_text(re.compile(r"dependency cycle: a -> b -> c -> a"))
    expect(error).to_contain_text("loop.pipeline.yaml, line")  # the server's, with where
    expect(error).not_to_contain_text("problems)")
    graph = page.locator(".jp-MlShip-graph[data-steps='3']")
    expect(graph.locator(".jp-MlShip-graphNode-cycle")).to_have_count(3)
    expect(graph.locator(".jp-MlShip-graphEdge-cycle")).to_have_count(3)
    page.shot("08-cycle")
    # an invalid pipeline cannot be run: its Run button is disabled (the error is shown above)
    run = page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar .jp-ToolbarButtonComponent",
                       has_text="Run pipeline").first
    run.wait_for()
    assert run.is_disabled() or run.get_attribute("aria-disabled") == "true"


def test_a_file_with_a_missing_notebook_is_drawn_next_to_its_error(page, lab):
    error = open_invalid(page, lab, "typo.pipeline.yaml",
                         "name: typo",
                         "steps:",
                         "  fetch: {notebook: hello.ipynb}",
                         "  clean: {notebook: helo.ipynb, depends_on: [fetch]}",
                         "  report: {notebook: hello.ipynb, depends_on: [clean]}")
    expect(error).to_contain_text("no such notebook")  # (the server's check, a moment later)
    expect(error).to_contain_text("helo.ipynb")
    assert str(lab.root) not in error.inner_text()  # paths as the user sees them in the lab
    graph = page.locator(".jp-MlShip-graph[data-steps='3']")
    graph.wait_for(timeout=30_000)
    for step in ("fetch", "clean", "report"):
        assert graph.get_by_text(step, exact=True).count() >= 1
    assert graph.locator(".jp-MlShip-graphNode-cycle").count() == 0
    page.shot("09-invalid-file")


def notebook(source: str) -> str:
    """A two-cell notebook (parameters, then code) with a kernelspec."""
    cells = [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "seconds = 0",
         "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
         "execution_count": None},
    ]
    return json.dumps({
        "cells": cells, "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
    })


def test_a_failed_step_skips_its_descendants_and_cancel_stops_the_rest(page, lab):
    (lab.root / "nap.ipynb").write_text(notebook(
        "import time\nprint('napping', flush=True)\ntime.sleep(seconds)"))
    (lab.root / "boom.ipynb").write_text(notebook("raise RuntimeError('boom on purpose')"))
    (lab.root / "mixed.pipeline.yaml").write_text(
        "name: mixed\n"
        "steps:\n"
        "  nap: {notebook: nap.ipynb, parameters: {seconds: 120}}\n"
        "  boom: {notebook: boom.ipynb}\n"
        "  after-boom: {notebook: nap.ipynb, depends_on: [boom]}\n"
    )
    open_file(page, lab, "mixed.pipeline.yaml")
    graph = page.locator(".jp-MlShip-graph[data-steps='3']")
    graph.wait_for()
    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Run pipeline").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("No parameters").wait_for()
    dialog.get_by_role("button", name="Run pipeline").click()

    graph.locator("[data-step='boom'][data-status='failed']").wait_for(timeout=LONG)
    graph.locator("[data-step='after-boom'][data-status='skipped']").wait_for(timeout=30_000)
    graph.locator("[data-step='nap'][data-status='running']").wait_for(timeout=LONG)
    # the status comes with the event, the error with the run fetched right after it
    errors = page.locator(".jp-MlShip-stepErrors li[data-step='boom']")
    errors.get_by_text("RuntimeError: boom on purpose", exact=True).wait_for()
    expect(graph.locator("[data-step='boom']")).to_have_attribute("title", re.compile("boom on purpose"))
    page.shot("09-failed-and-running")

    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Cancel").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Cancel pipeline run").click()
    page.locator(".jp-MlShip-pipelineRunBar[data-status='cancelled']").wait_for(timeout=60_000)
    graph.locator("[data-step='nap'][data-status='cancelled']").wait_for(timeout=60_000)
    assert graph.locator("[data-step='boom']").get_attribute("data-status") == "failed"
    page.shot("10-cancelled")
    # the failed step's run: its log has the exception
    errors.get_by_role("button", name="Open run").click()
    failed = page.locator(".jp-MlShip-runBody[data-status='failed']").last
    failed.get_by_text("boom on purpose").first.wait_for(timeout=30_000)
