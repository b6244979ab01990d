"""Issue 13, items 9-11: the parameters-tag command, the dark theme and settings, versions."""

from __future__ import annotations

import json

from tests.ui.test_lab_fixes import keep, open_lab, open_panel, set_theme, write_notebook
from tests.ui.test_lab_flow import LONG, api, open_notebook, post, ship_dialog

def palette_run(page, label: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
    page.locator(".lm-Menu-itemLabel", has_text="Command Palette").first.click()
    palette = page.locator(".lm-CommandPalette-input")
    palette.wait_for()
    palette.fill(label)
    page.locator(".lm-CommandPalette-item", has_text=label).first.click()


def saved_tags(page, lab, name: str) -> list:
    """Save the notebook, then each cell's tags as written to disk."""
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-mod-dirty')"
        " && !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')")
    page.wait_for_timeout(300)
    cells = json.loads((lab.root / name).read_text())["cells"]
    return [c.get("metadata", {}).get("tags", []) for c in cells]


# 11. Tag as parameters cell


def test_the_tag_as_parameters_command_toggles_the_tag(page, lab):
    write_notebook(lab.root / "tagme.ipynb", "x = 1", "print(x)")
    open_notebook(page, lab, "tagme.ipynb")
    page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    palette_run(page, "Tag as Parameters Cell")
    assert saved_tags(page, lab, "tagme.ipynb") == [["parameters"], []]
    page.shot("parameters-tagged")
    # run again (the palette now says Untag): removed
    palette_run(page, "Untag as Parameters Cell")
    assert saved_tags(page, lab, "tagme.ipynb") == [[], []]
    # the cell toolbar button toggles it too
    page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-InputPrompt").click()
    button = page.locator(
        ".jp-Cell.jp-mod-active .jp-cell-toolbar [data-command='ml-ship:tag-parameters']")
    button.wait_for()
    button.click()
    assert saved_tags(page, lab, "tagme.ipynb") == [["parameters"], []]
    keep(page, "parameters-cell-toolbar", page.locator(".jp-Cell.jp-mod-active"))
