"""Issue 13, items 9-11: the parameters-tag command, the dark theme and settings, versions."""

from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from tests.ui.test_lab_fixes import keep, open_lab, open_panel, set_theme, write_notebook
from tests.ui.test_lab_flow import api, open_notebook, post, ship_dialog


def panel_with_job(page, job: str):
    """The panel listing `job` (refreshed if its first load came before the job)."""
    panel = open_panel(page)
    item = panel.get_by_text(job, exact=True).first
    try:
        item.wait_for(timeout=10_000)
    except Exception:
        page.locator(".jp-MlShip-panel [title='Refresh jobs and runs'], "
                     "[title='Refresh jobs and runs']").first.click()
        item.wait_for(timeout=30_000)
    return panel


def palette_run(page, label: str) -> None:
    """Run a command from the (modal) command palette. The palette closes when it loses the
    focus, which the notebook can take back while it settles on a loaded machine (CI under
    load: the palette was gone before its item could be clicked): then it is opened again."""
    palette = page.locator(".lm-CommandPalette-input")
    item = page.locator(".lm-CommandPalette-item", has_text=label).first
    for attempt in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
        page.locator(".lm-Menu-itemLabel", has_text="Command Palette").first.click()
        try:
            palette.wait_for(timeout=10_000)
            palette.fill(label)
            item.click(timeout=10_000)
            return
        except Exception:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def palette_toggle(page, label: str, pressed: str) -> None:
    """Run the (toggling) tag command from the palette until the active cell's toolbar button
    says it is done (aria-pressed). Under stress-ng a palette click can be lost, or land twice
    when palette_run retries: the button's state, not the click, decides."""
    button = page.locator(".jp-Cell.jp-mod-active .jp-cell-toolbar "
                          "[data-command='ml-ship:tag-parameters'] [aria-pressed]").first
    for attempt in range(3):
        palette_run(page, label if attempt == 0 else "as Parameters Cell")
        try:
            expect(button).to_have_attribute("aria-pressed", pressed, timeout=10_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def saved_tags(page, lab, name: str, expected: list) -> list:
    """Save the notebook, then each cell's tags as written to disk (once they are `expected`,
    or as they are after 30 s). Saved once the change is in the notebook (its tab marked
    unsaved): under stress-ng a Ctrl+S pressed right after the click saved the notebook as it
    was, and the tag came after."""
    page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").wait_for()
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while True:
        try:
            cells = json.loads((lab.root / name).read_text())["cells"]
        except ValueError:  # caught while the lab writes it
            cells = []
        tags = [c.get("metadata", {}).get("tags", []) for c in cells]
        if tags == expected or time.monotonic() > deadline:
            return tags
        time.sleep(0.1)


# 11. Tag as parameters cell


def test_the_tag_as_parameters_command_toggles_the_tag(page, lab):
    write_notebook(lab.root / "tagme.ipynb", "x = 1", "print(x)")
    open_notebook(page, lab, "tagme.ipynb")
    page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    palette_toggle(page, "Tag as Parameters Cell", pressed="true")
    want = [["parameters"], []]
    assert saved_tags(page, lab, "tagme.ipynb", want) == want
    page.shot("parameters-tagged")
    # run again (the palette now says Untag): removed
    palette_toggle(page, "Untag as Parameters Cell", pressed="false")
    want = [[], []]
    assert saved_tags(page, lab, "tagme.ipynb", want) == want
    # the cell toolbar button toggles it too
    page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-InputPrompt").click()
    button = page.locator(
        ".jp-Cell.jp-mod-active .jp-cell-toolbar [data-command='ml-ship:tag-parameters']")
    button.wait_for()
    button.click()
    want = [["parameters"], []]
    assert saved_tags(page, lab, "tagme.ipynb", want) == want
    keep(page, "parameters-cell-toolbar", page.locator(".jp-Cell.jp-mod-active"))


# 10. Dark theme: disabled primary buttons, the failure text, Settings' Default backend, wrapping


def opacity(locator) -> float:
    return float(locator.evaluate("b => getComputedStyle(b).opacity"))


def test_dark_theme_disabled_buttons_errors_and_the_default_backend_choice(page, lab):
    from tests.ui.test_lab_fixes import open_run_from_panel, wait_run
    write_notebook(lab.root / "darkfail.ipynb", "x = 1", "raise ValueError('dark ' * 40)",
                   params="n = 1")
    shipped = post(lab, "/ship", {"path": "darkfail.ipynb", "name": "darkfail", "run": True})

    open_notebook(page, lab, "darkfail.ipynb")
    set_theme(page, "JupyterLab Dark")
    dialog = ship_dialog(page)
    ship = dialog.get_by_role("button", name="Ship", exact=True)
    enabled = opacity(ship)
    dialog.locator("#jp-MlShip-schedule").fill("0 25 * * *")
    dialog.locator(".jp-MlShip-field-error").first.wait_for()
    assert not ship.is_enabled()
    disabled = opacity(ship)
    assert disabled <= enabled - 0.4, (disabled, enabled)
    # an unavailable backend's raw reason (e.g. Docker's) is wrapped whole, not clipped
    for li in dialog.locator(".jp-MlShip-backend-reasons li").all():
        clipped = li.evaluate(
            "e => { const s = getComputedStyle(e); return s.webkitLineClamp !== 'none'"
            " || s.whiteSpace !== 'pre-wrap' || e.scrollWidth > e.clientWidth + 1; }")
        assert not clipped, li.inner_text()
    keep(page, "ship-dialog-disabled-dark", dialog.locator(".jp-Dialog-content"))
    dialog.get_by_role("button", name="Cancel").click()

    # a long raw error wraps in the dialog's body
    wraps = page.evaluate("""() => {
      const d = document.createElement('div');
      d.className = 'jp-MlShip-dialogError';
      d.textContent = 'x'.repeat(500);
      d.style.width = '300px';
      document.body.appendChild(d);
      const s = getComputedStyle(d);
      const out = [s.whiteSpace, s.overflowWrap, d.scrollWidth <= 300];
      d.remove();
      return out;
    }""")
    assert wraps == ["pre-wrap", "anywhere", True], wraps

    # the failure on its red background: the strongest text colour of the theme
    run = wait_run(lab, shipped["run"]["id"])
    assert run["status"] == "failed"
    panel_with_job(page, "darkfail")
    body = open_run_from_panel(page, lab, "darkfail", run["id"])
    box = body.locator(".jp-MlShip-error")
    where = box.locator("[data-where]")
    assert where.inner_text().startswith("In cell")
    color0 = page.evaluate(
        "() => getComputedStyle(document.body).getPropertyValue('--jp-ui-font-color0').trim()")
    assert color0
    probe = page.evaluate("""c => { const d = document.createElement('div'); d.style.color = c;
      document.body.appendChild(d); const v = getComputedStyle(d).color; d.remove(); return v; }""",
                          color0)
    assert where.evaluate("e => getComputedStyle(e).color") == probe
    keep(page, "failure-dark-long-message", box)

    # Settings: Default backend is a choice of the enabled backends
    backends = [b["name"] for b in api(lab, "/health")["backends"] if b["available"]]
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Settings Editor").first.click()
    page.locator(".jp-PluginList-entry", has_text="ML Ship").first.click()
    select = page.locator("select[id*='defaultBackend']")
    select.wait_for(timeout=30_000)
    options = select.locator("option").evaluate_all("os => os.map(o => o.textContent.trim())")
    assert [o for o in options if o] == backends, (options, backends)
    keep(page, "settings-default-backend-dark", page.locator(".jp-SettingsPanel").first)
    set_theme(page, "JupyterLab Light")


# 9. Versions: a newer version is made current, not rolled back to; icons of one size


def test_a_newer_version_reads_make_current_and_icons_are_one_size(page, lab):
    import re
    write_notebook(lab.root / "vers.ipynb", "print('one')")
    post(lab, "/ship", {"path": "vers.ipynb", "name": "vers"})
    write_notebook(lab.root / "vers.ipynb", "print('two')")
    post(lab, "/ship", {"path": "vers.ipynb", "name": "vers"})
    post(lab, "/jobs/vers/rollback", {"version": 1})
    open_lab(page, lab)
    panel = panel_with_job(page, "vers")
    panel.get_by_text("vers", exact=True).first.click()
    panel.get_by_text(re.compile(r"^Versions")).click()
    versions = panel.locator(".jp-MlShip-versions")
    versions.wait_for()
    v2 = versions.locator("li[data-version='2']")
    assert v2.get_by_role("button", name="Roll back to v2").count() == 0
    button = v2.get_by_role("button", name="Make v2 current")
    assert button.get_attribute("title").startswith("Make current")

    # icons of one size
    sizes = versions.locator(".jp-MlShip-iconButton svg").evaluate_all(
        "svgs => svgs.map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })")
    assert sizes and all(size == [16, 16] for size in sizes), sizes
    set_theme(page, "JupyterLab Dark")
    keep(page, "versions-make-current-dark", panel)
    set_theme(page, "JupyterLab Light")

    button.click()
    dialog = page.locator(".jp-Dialog")
    assert "current" in dialog.locator(".jp-Dialog-header").inner_text()
    dialog.get_by_role("button", name="Make current").click()
    versions.locator("li[data-version='2'] .jp-MlShip-current").wait_for()
    assert api(lab, "/jobs/vers")["current_version"] == 2
    # v1 is now older than the current one: rolled back to
    versions.locator("li[data-version='1']").get_by_role("button", name="Roll back to v1").wait_for()
