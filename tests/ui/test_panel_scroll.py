"""A panel with many jobs still scrolls to what is below them (the pipelines)."""

from __future__ import annotations

from tests.ui.test_lab_fixes import open_lab, open_panel, write_notebook
from tests.ui.test_lab_flow import post


def test_with_many_jobs_the_panel_scrolls_to_the_pipelines(page, lab):
    folder = lab.root / "many"
    folder.mkdir(exist_ok=True)
    for i in range(40):
        write_notebook(folder / f"job{i:02d}.ipynb", f"print({i})")
        post(lab, "/ship", {"path": f"many/job{i:02d}.ipynb", "name": f"many-{i:02d}"})
    open_lab(page, lab)
    panel = open_panel(page)
    panel.locator("li[data-job='many-39']").wait_for(timeout=30_000)
    section = panel.locator(".jp-MlShip-pipelines")
    section.scroll_into_view_if_needed()
    box, view = section.bounding_box(), page.viewport_size
    assert box is not None and box["y"] < view["height"], (box, view)
    scroller = page.locator(".jp-MlShip-panelContent")
    assert scroller.evaluate("e => e.scrollHeight > e.clientHeight && e.scrollTop > 0")
