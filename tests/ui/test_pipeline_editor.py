"""The visual pipeline editor: notebooks dropped from the file browser become steps, edges are
drawn from a step's port, the side form edits parameters (with upstream references), retries,
timeout and backend; the file keeps its comments and key order; problems show as they are made."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.ui.conftest import TOKEN
from tests.ui.test_lab_fixes import keep, set_theme

SOURCE = (
    "# Made by hand, then edited on the canvas: this comment stays.\n"
    "name: edited\n"
    "parameters:\n"
    "  day: \"2024-01-01\"  # the day to process\n"
    "steps:\n"
    "  prep:\n"
    "    notebook: prepare.ipynb  # reads the raw data\n"
    "    parameters: {day: \"{{ params.day }}\"}\n"
)


def drag(page, source, target) -> None:
    """A mouse drag (Lumino starts its drag after a few pixels of movement). The source is
    scrolled into view first: in the shared lab, earlier tests leave enough files that a name
    late in the alphabet sits below the file browser's fold, and a press there selects text."""
    source.scroll_into_view_if_needed()
    target.scroll_into_view_if_needed()
    a, b = source.bounding_box(), target.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(a["x"] + a["width"] / 2 + 10, a["y"] + a["height"] / 2 + 5, steps=3)
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=15)
    page.mouse.up()


def file_text(lab, name: str, want: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = (lab.root / name).read_text()
        if want in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{want!r} never saved:\n{text}")


def test_edit_a_pipeline_on_the_canvas_and_keep_the_files_comments(page, lab):
    (lab.root / "edited.pipeline.yaml").write_text(SOURCE)
    page.goto(f"{lab.url}lab/tree/edited.pipeline.yaml?token={TOKEN}&reset")
    page.locator(".jp-MlShip-graph[data-steps='1']").wait_for(timeout=90_000)
    page.locator(".jp-MlShip-pipelineWidget .jp-Toolbar").get_by_text("Edit", exact=True).click()
    canvas = page.locator(".jp-MlShip-editorCanvas")
    canvas.wait_for()

    # a notebook dragged from the file browser becomes a step
    item = page.locator(".jp-DirListing-item", has=page.get_by_text("train.ipynb", exact=True))
    drag(page, item, canvas)
    graph = page.locator(".jp-MlShip-editorCanvas .jp-MlShip-graph")
    graph.locator("[data-step='train']").wait_for()

    # an edge drawn from prep's port to train
    drag(page, graph.locator("[data-port='prep']"), graph.locator("[data-step='train']"))
    graph.locator("[data-edge='prep->train']").wait_for(state="attached")
    text = file_text(lab, "edited.pipeline.yaml", "depends_on: [prep]")

    # the side form: a parameter from an upstream reference, retries, a backend
    graph.locator("[data-step='train']").click()
    form = page.locator(".jp-MlShip-stepForm[data-step='train']")
    form.wait_for()
    assert form.get_by_role("checkbox", name="prep").is_checked()
    form.get_by_label("New parameter name").fill("data_path")
    form.get_by_role("button", name="Add").click()
    chooser = form.get_by_label("Insert a reference into data_path")
    chooser.wait_for()
    options = chooser.locator("option").all_inner_texts()
    assert "params.day" in options and any(o.startswith("prep → ") for o in options), options
    # the upstream step's recorded outputs, once the server has read the saved file
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-MlShip-stepForm select option')]"
        ".some(o => o.textContent === 'prep → output data_path')", timeout=30_000)
    chooser.select_option(label="prep → output data_path")
    data_path = form.locator("#jp-MlShip-sp-train-data_path")
    assert data_path.input_value() == "{{ steps.prep.outputs.data_path }}"

    # an invalid value is said at once on the form and not written to the file until valid
    retries = form.locator("input[type='number']").first
    retries.fill("-1")
    form.get_by_role("alert").filter(has_text="Retries: a whole number").wait_for()
    page.shot("editor-invalid")
    form.get_by_label("Timeout (s)").fill("600")
    text = file_text(lab, "edited.pipeline.yaml", "timeout: 600")  # saved after the -1
    assert "retries: -1" not in text, text
    retries.fill("2")
    expect(form.get_by_role("alert").filter(has_text="Retries")).to_have_count(0)
    form.get_by_label("Backend").select_option("local")
    text = file_text(lab, "edited.pipeline.yaml", "backend: local")
    text = file_text(lab, "edited.pipeline.yaml", "retries: 2")
    keep(page, "pipeline-editor")
    set_theme(page, "JupyterLab Dark")
    keep(page, "pipeline-editor-dark")
    set_theme(page, "JupyterLab Light")

    # the user's comments and key order survive
    assert text.startswith("# Made by hand, then edited on the canvas: this comment stays.\nname: edited\n")
    # with their spacing before inline comments, on the lines the edits did not touch
    assert '  day: "2024-01-01"  # the day to process\n' in text
    assert "notebook: prepare.ipynb  # reads the raw data" in text
    assert text.index("prep:") < text.index("train:")
    assert 'data_path: "{{ steps.prep.outputs.data_path }}"' in text or \
        "data_path: '{{ steps.prep.outputs.data_path }}'" in text or \
        "data_path: \"{{ steps.prep.outputs.data_path }}\"" in text, text
    assert "retries: 2" in text
    # and the server agrees the pipeline is valid
    page.locator(".jp-MlShip-pipelineView[data-invalid='false']").wait_for()
    expect(page.locator(".jp-MlShip-issues li")).to_have_count(0)
