"""The pipeline graph fits (#24 item 4): a long pipeline is fitted to its pane at 900 px, zoomed
with the buttons and the mouse wheel, panned by a drag, fitted again; a step dropped in Edit
mode appears in view; Edit mode shows the last run's step statuses; New pipeline from the
launcher makes a file and opens its graph. Light and dark, 1440 and 900 px wide;
docs/screenshots/pipeline-fit.png."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.ui.conftest import TOKEN, set_theme, settled
from tests.ui.test_lab_fixes import keep, write_notebook
from tests.ui.test_pipeline_editor import drag

CHAIN = [f"fit_s{i}" for i in range(1, 8)]


def _long_pipeline(lab) -> None:
    lines = ["name: fit-chain", "steps:"]
    for i, step in enumerate(CHAIN):
        write_notebook(lab.root / f"{step}.ipynb", "print('step')")
        lines += [f"  {step}:", f"    notebook: {step}.ipynb"]
        if i:
            lines.append(f"    depends_on: [{CHAIN[i - 1]}]")
    (lab.root / "fit_chain.pipeline.yaml").write_text("\n".join(lines) + "\n")


def _inside(node, pane) -> bool:
    a, b = node.bounding_box(), pane.bounding_box()
    return a is not None and b is not None and a["x"] >= b["x"] - 1 and \
        a["y"] >= b["y"] - 1 and a["x"] + a["width"] <= b["x"] + b["width"] + 1 and \
        a["y"] + a["height"] <= b["y"] + b["height"] + 1


def _zoom(pane) -> float:
    return float(pane.get_attribute("data-zoom"))


def test_the_graph_fits_zooms_pans_and_keeps_a_new_step_in_view(page, lab):
    _long_pipeline(lab)
    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(f"{lab.url}lab/tree/fit_chain.pipeline.yaml?token={TOKEN}&reset")
    graph = page.locator(".jp-MlShip-graph[data-steps='7']")
    graph.wait_for(timeout=90_000)
    pane = page.locator(".jp-MlShip-graphViewport")
    nodes = graph.locator(".jp-MlShip-graphNode")
    # fitted: seven steps side by side in a pane narrower than they are at 100%
    page.wait_for_function("() => document.querySelector('.jp-MlShip-graphViewport')"
                           ".dataset.zoom < 1")
    fitted = _zoom(pane)
    assert all(_inside(nodes.nth(i), pane) for i in range(7))
    settled(page)
    page.shot("light-900")

    controls = pane.locator(".jp-MlShip-graphControls")
    controls.get_by_role("button", name="Zoom in").click()
    assert _zoom(pane) > fitted
    assert not _inside(nodes.nth(6), pane)  # bigger than the pane now
    controls.get_by_role("button", name="Zoom out").click()
    controls.get_by_role("button", name="Zoom out").click()
    assert _zoom(pane) < fitted
    box = pane.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    before = _zoom(pane)
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"() => document.querySelector('.jp-MlShip-graphViewport')"
                           f".dataset.zoom > {before}")
    # a drag on the background pans the graph
    first = nodes.first.bounding_box()
    page.mouse.move(box["x"] + 8, box["y"] + box["height"] - 8)
    page.mouse.down()
    page.mouse.move(box["x"] + 108, box["y"] + box["height"] - 38, steps=5)
    page.mouse.up()
    moved = nodes.first.bounding_box()
    assert abs(moved["x"] - first["x"] - 100) < 3 and abs(moved["y"] - first["y"] + 30) < 3
    controls.get_by_role("button", name="Fit").click()
    assert _zoom(pane) == fitted
    assert all(_inside(nodes.nth(i), pane) for i in range(7))

    page.set_viewport_size({"width": 1440, "height": 900})
    # fitted again to the wider pane
    page.wait_for_function(f"() => document.querySelector('.jp-MlShip-graphViewport')"
                           f".dataset.zoom > {fitted}")
    settled(page)
    assert all(_inside(nodes.nth(i), pane) for i in range(7))
    keep(page, "pipeline-fit", pane)
    page.shot("light-1440")
    set_theme(page, "JupyterLab Dark")
    try:
        for width in (1440, 900):
            page.set_viewport_size({"width": width, "height": 900})
            settled(page)
            assert all(_inside(nodes.nth(i), pane) for i in range(7))
            page.shot(f"dark-{width}")
        keep(page, "pipeline-fit-dark", pane)
    finally:
        set_theme(page, "JupyterLab Light")

    # Edit: a dropped notebook is a new step, in view
    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Edit", exact=True).click()
    canvas = page.locator(".jp-MlShip-editorCanvas")
    canvas.wait_for()
    edit_pane = canvas.locator(".jp-MlShip-graphViewport")
    edit_pane.locator(".jp-MlShip-graphControls").get_by_role("button", name="Zoom in").click()
    edit_pane.locator(".jp-MlShip-graphControls").get_by_role("button", name="Zoom in").click()
    drag(page, page.locator(".jp-DirListing-item", has=page.get_by_text("hello.ipynb", exact=True)), canvas)
    added = canvas.locator(".jp-MlShip-graph[data-steps='8'] [data-step='hello']")
    added.wait_for()
    page.wait_for_function("() => { const n = document.querySelector("
                           "'.jp-MlShip-editorCanvas [data-step=\"hello\"]').getBoundingClientRect();"
                           " const p = document.querySelector('.jp-MlShip-editorCanvas "
                           ".jp-MlShip-graphViewport').getBoundingClientRect();"
                           " return n.left >= p.left - 1 && n.right <= p.right + 1 &&"
                           " n.top >= p.top - 1 && n.bottom <= p.bottom + 1; }")
    page.shot("edit-new-step")


def _post(lab, path: str, body: dict) -> dict:
    request = urllib.request.Request(lab.api(path), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())


def _get(lab, path: str) -> dict:
    with urllib.request.urlopen(lab.api(path), timeout=30) as r:
        return json.loads(r.read())


def test_edit_mode_shows_the_last_runs_statuses(page, lab):
    write_notebook(lab.root / "fit_ok.ipynb", "print('fine')")
    write_notebook(lab.root / "fit_bad.ipynb", "raise ValueError('no data')")
    (lab.root / "fit_ran.pipeline.yaml").write_text(
        "name: fit-ran\nsteps:\n  ok:\n    notebook: fit_ok.ipynb\n"
        "  bad:\n    notebook: fit_bad.ipynb\n    depends_on: [ok]\n")
    _post(lab, "/pipelines", {"path": "fit_ran.pipeline.yaml"})
    run = _post(lab, "/pipelines/fit-ran/runs", {})
    deadline = time.monotonic() + 150
    while run["status"] not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, run
        time.sleep(0.5)
        run = _get(lab, f"/pipeline-runs/{run['id']}")
    assert run["status"] == "failed"
    page.goto(f"{lab.url}lab/tree/fit_ran.pipeline.yaml?token={TOKEN}&reset")
    page.locator(".jp-MlShip-graph[data-steps='2']").wait_for(timeout=90_000)
    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Edit", exact=True).click()
    canvas = page.locator(".jp-MlShip-editorCanvas")
    canvas.locator("[data-step='ok'][data-status='succeeded']").wait_for()
    canvas.locator("[data-step='bad'][data-status='failed']").wait_for()
    assert "not run" not in canvas.locator(".jp-MlShip-graph").inner_text()
    page.shot("edit-statuses")


def test_new_pipeline_from_the_launcher_opens_its_graph(page, lab):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    page.locator(".jp-DirListing-item").first.wait_for(timeout=90_000)
    before = set(p.name for p in lab.root.glob("*.pipeline.yaml"))
    page.locator(".jp-Launcher-section", has_text="Other") \
        .locator(".jp-LauncherCard", has_text="Pipeline").click()
    view = page.locator(".jp-MlShip-pipelineView[data-path$='.pipeline.yaml']")
    view.wait_for()
    deadline = time.monotonic() + 30
    made: set[str] = set()
    while not made and time.monotonic() < deadline:
        made = set(p.name for p in lab.root.glob("*.pipeline.yaml")) - before
        time.sleep(0.2)
    [name] = made
    text = (lab.root / name).read_text()
    assert "steps: {}" in text and f"name: {name.split('.')[0]}" in text
    assert view.get_attribute("data-path").endswith(name)
    page.shot("new-pipeline")
