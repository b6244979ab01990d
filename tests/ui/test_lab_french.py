"""The lab in the user's language (#24 item 6), in a real JupyterLab and Chromium.

JupyterLab's French language pack is selected (the translation extension's ``locale`` setting,
fr_FR); the extension's own catalogue (jupyter_ml_ship/locale/fr_FR, from
scripts/translations.sh) is served by JupyterLab's translation server. The side panel (jobs list
and a job), the Ship dialog and a run view must show no English word: every visible text, button
and placeholder is read from the page and checked against the English words of the extension's
messages that the French catalogue does not use. User data (the notebook's name, parameters,
file names, the run's log) and proper nouns stay as they are. Screenshot:
docs/screenshots/fr-panel.png.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.python.conftest import REPO
from tests.ui.conftest import TOKEN, run_lab, settled
from tests.ui.test_lab_flow import api, post, ship_dialog_ready

LOCALE = REPO / "jupyter_ml_ship" / "locale"
SCREENSHOTS = REPO / "docs" / "screenshots"

#: words shown as they are in French too: product names, proper nouns, units, code
KEPT = {"MLflow", "Docker", "Airflow", "Jupyter", "JupyterLab", "UTC", "JSON", "YAML",
        "cron", "sha", "pid", "ms", "min", "s", "h", "v", "id", "pandas", "papermill",
        "metadata", "ml_ship", "notify", "parameters", "local", "docker", "airflow"}
#: the example notebook's data shown by the views: its name, parameters, values, files
DATA = {"hello", "name", "times", "world", "Ada", "ipynb", "churn", "sweep", "pipeline", "yaml",
        "evaluate", "prepare", "train", "polyglot", "greeted",
        "production", "staging",  # environment names (MlShip.environments)
        "root"}  # the user who shipped and ran (the server runs as root here)

#: every visible text of an element (text nodes, placeholders, the chosen option), as
#: [text, the nearest element's classes]; the run's log and code samples are user data
VISIBLE_TEXTS = """
(root) => {
  const out = [];
  // the log and code are user data; [lang=en]: a server's own English detail (a backend's
  // reason), marked as such after the lab's translated words
  const skip = '.jp-MlShip-log, code, pre, .CodeMirror, .cm-editor, .jp-MlShip-filePreview, [lang=en]';
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.trim();
    if (text && el && shown(el) && !el.closest(skip) && getComputedStyle(el).visibility !== 'hidden') {
      out.push([text, el.className && el.className.baseVal === undefined ? el.className : '']);
    }
  }
  for (const el of root.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (shown(el) && !el.value) out.push([el.placeholder, 'placeholder']);
  }
  for (const el of root.querySelectorAll('select')) {
    if (shown(el) && el.selectedOptions.length) out.push([el.selectedOptions[0].text, 'select']);
  }
  return out;
}
"""


def _catalogue_words() -> tuple[set[str], dict[str, str]]:
    """(the words of the extension's English messages that its French messages never use, the
    French of each message)."""
    import polib

    po = polib.pofile(str(LOCALE / "fr_FR" / "LC_MESSAGES" / "jupyter_ml_ship.po"))
    def words(s: str, code: bool = True) -> set[str]:
        s = re.sub(r"%\d", " ", s)
        if not code:  # the French messages' code samples (`ml-ship run`) are no French words
            s = re.sub(r"`[^`]*`|ml-ship [a-z ]+|\S*[._=/]\S*|--\w+", " ", s)
        return set(re.findall(r"[A-Za-z]+", s))
    english: set[str] = set()
    french: set[str] = set()
    for entry in po:
        if entry.obsolete:
            continue
        english |= words(entry.msgid)
        french |= words(entry.msgstr, code=False)
    return {w for w in english - french - KEPT - DATA if len(w) > 1}, {
        e.msgid: e.msgstr for e in po if not e.obsolete}


def english_left(texts: list[list[str]], english: set[str]) -> list[str]:
    """The visible texts holding an English word (file names, ids, dotted names, addresses and
    commands are data or code, in French too)."""
    left = []
    for text, _cls in texts:
        if re.fullmatch(r"[\w./-]+\.\w+", text) or re.fullmatch(r"#?[0-9a-f]{6,}", text):
            continue  # a file name, a run id
        found = [w for w in re.findall(r"[A-Za-z]+", re.sub(r"ML Ship|ml-ship [a-z-]+|--\w+|\S*[._=/@]\S*", " ", text))
                 if w in english]
        if found:
            left.append(f"{text!r} ({', '.join(found)}) in .{_cls}")
    return left


@pytest.fixture(scope="module")
def french_lab(tmp_path_factory):
    """A lab whose user settings select the French language pack (as Settings › Language
    › Français does)."""
    base = tmp_path_factory.mktemp("lab-fr")
    settings = base / "user-settings"
    plugin = settings / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(json.dumps({"locale": "fr_FR"}))
    with run_lab(base, env_extra={"JUPYTERLAB_SETTINGS_DIR": str(settings)}) as lab:
        yield lab


def wait_run(lab, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = api(lab, f"/runs/{run_id}")
        if run["status"] in ("succeeded", "failed", "cancelled", "timed_out"):
            return run
        assert time.monotonic() < deadline, f"run {run_id} did not end: {run['status']}"
        time.sleep(0.3)


def test_panel_ship_dialog_and_run_view_speak_french(page, french_lab):
    lab = french_lab
    english, fr = _catalogue_words()
    assert "Runs" in english and "Cancel" in english  # the check knows the extension's words
    # the server's translation API hands the lab the extension's catalogue
    with __import__("urllib.request").request.urlopen(
            f"{lab.url}lab/api/translations/fr_FR?token={TOKEN}", timeout=30) as r:
        served = json.loads(r.read())["data"]
    assert served["jupyter_ml_ship"]["Run"] == ["Exécuter"], sorted(served)[:20]

    post(lab, "/ship", {"path": "hello.ipynb", "name": "hello", "message": "première version"})
    run = wait_run(lab, post(lab, "/runs", {"job": "hello", "parameters": {"name": "Ada"}})["id"])
    assert run["status"] == "succeeded", run

    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    page.locator(".jp-DirListing-item").first.wait_for(timeout=90_000)
    page.locator("#jp-menu-panel").get_by_text("Fichier", exact=True).wait_for()  # the lab is French

    # the side panel: the jobs list, then the job
    page.locator(".jp-SideBar [data-id='jp-MlShip-panel']").first.click()
    panel = page.locator(".jp-MlShip-panel")
    panel.locator("li[data-job='hello']").wait_for()
    texts = panel.evaluate(VISIBLE_TEXTS)
    assert not (left := english_left(texts, english)), f"English left: {left}"
    shown = {t for t, _ in texts}
    assert fr["By name"] in shown, shown  # the sort choice
    assert any(fr["succeeded"] in t for t in shown), shown  # the last run's status chip

    panel.locator("li[data-job='hello'] button.jp-MlShip-item").first.click()
    panel.locator(f"li[data-run='{run['id']}']").wait_for()
    texts = panel.evaluate(VISIBLE_TEXTS)
    assert not (left := english_left(texts, english)), f"English left: {left}"
    shown = {t for t, _ in texts}
    assert fr["Runs"] in shown and fr["Run"] in shown, shown
    # the job's tabs, wordier in French, all inside the panel (none cut at its edge)
    right = panel.evaluate("el => el.getBoundingClientRect().right")
    tabs = panel.locator(".jp-MlShip-tab").evaluate_all(
        "els => els.map(e => [e.textContent, e.getBoundingClientRect().right])")
    assert tabs and all(r <= right + 1 for _, r in tabs), (tabs, right)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SCREENSHOTS / "fr-panel.png"))

    # a run view
    panel.locator(f"li[data-run='{run['id']}'] button").first.click()
    body = page.locator(f".jp-MlShip-runBody[data-run='{run['id']}']")
    body.and_(page.locator("[data-status='succeeded']")).wait_for(timeout=60_000)
    body.locator(".jp-MlShip-log").get_by_text("hello, Ada!").wait_for(timeout=30_000)
    view = page.locator(".jp-MlShip-runWidget", has=body)
    texts = view.evaluate(VISIBLE_TEXTS)
    assert not (left := english_left(texts, english)), f"English left: {left}"
    assert any(fr["Re-run"] in t for t, _ in texts), texts
    page.screenshot(path=str(Path(SCREENSHOTS / "fr-run-view.png")))

    # the Ship dialog of the notebook
    page.goto(f"{lab.url}lab/tree/hello.ipynb?token={TOKEN}&reset")
    toolbar = page.locator(".jp-NotebookPanel-toolbar").first
    toolbar.wait_for(timeout=90_000)
    toolbar.get_by_text(fr["Ship"], exact=True).click()
    dialog = ship_dialog_ready(page.locator(".jp-Dialog"))
    dialog.locator(".jp-MlShip-project:not([data-state='loading'])").wait_for(timeout=30_000)
    texts = dialog.evaluate(VISIBLE_TEXTS)
    assert not (left := english_left(texts, english)), f"English left: {left}"
    shown = {t for t, _ in texts}
    assert fr["Parameters"] in shown or any(fr["Parameters"] in t for t in shown), shown
    assert "Annuler" in shown, shown  # JupyterLab's own button, from the language pack
    assert fr["Ship & run"] in shown, shown
    page.screenshot(path=str(SCREENSHOTS / "fr-ship-dialog.png"))
    dialog.get_by_role("button", name="Annuler").click()


#: the pipeline example's and the scheduled notebook's data shown by the views (step names,
#: parameters, the job's name)
PIPELINE_DATA = {"day", "rows", "epochs", "accuracy", "nightly", "scores"}


def _english(texts: list[list[str]], english: set[str]) -> list[str]:
    return english_left(texts, english - PIPELINE_DATA)


def test_schedules_view_and_pipeline_editor_speak_french(page, french_lab):
    """The Schedules view (a schedule in words by cronstrue's French locale, its editor and the
    friendly builder) and the pipeline editor (the graph's view, Edit mode and a step's side
    form) show no English word."""
    lab = french_lab
    english, fr = _catalogue_words()
    (lab.root / "nightly_scores.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": "print('tick')", "outputs": [],
                   "execution_count": None}],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "ml_ship": {"schedule": "30 7 * * 1-5"}}}))
    post(lab, "/ship", {"path": "nightly_scores.ipynb", "name": "nightly-scores"})
    urllib.request.urlopen(urllib.request.Request(
        lab.api("/schedules/job/nightly-scores"), method="PATCH",
        data=json.dumps({"timezone": "Europe/Paris"}).encode(),
        headers={"Content-Type": "application/json"}), timeout=30).close()

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    page.locator("#jp-menu-panel").get_by_text("Fichier", exact=True).wait_for(timeout=90_000)
    page.locator(".jp-SideBar [data-id='jp-MlShip-panel']").first.click()
    section = page.locator("section.jp-MlShip-schedules")
    row = section.locator("[data-schedule='job:nightly-scores']")
    # the schedule in words, by cronstrue in the lab's language (not "At 07:30, Monday
    # through Friday")
    expect(row.locator(".jp-MlShip-scheduleWords")).to_contain_text("À 07:30, de lundi à vendredi",
                                                                    timeout=30_000)
    texts = section.evaluate(VISIBLE_TEXTS)
    assert not (left := _english(texts, english)), f"English left: {left}"

    # its editor: the builder's kinds, a week's days, the hint in words
    row.get_by_role("button", name=fr["Edit"]).click()
    editor = row.locator(".jp-MlShip-scheduleEditor")
    hint = editor.locator(".jp-MlShip-scheduleHint")
    expect(hint).to_contain_text("À 07:30, de lundi à vendredi (Europe/Paris)")
    expect(hint).not_to_contain_text("next")
    texts = editor.evaluate(VISIBLE_TEXTS) + editor.evaluate(
        "e => [...e.querySelectorAll('option')].map(o => [o.text, 'option'])")
    assert not (left := _english(texts, english)), f"English left: {left}"
    editor.get_by_label(fr["Repeat"]).select_option("weekly")
    expect(hint).to_contain_text("lundi")
    texts = editor.evaluate(VISIBLE_TEXTS)
    assert not (left := _english(texts, english)), f"English left: {left}"
    assert "lun." in {t for t, _ in texts} or any(t.startswith("lun") for t, _ in texts), texts
    editor.get_by_label(fr["Time zone"]).fill("Mars/Olympus")
    expect(hint).to_contain_text("Mars/Olympus")
    texts = editor.evaluate(VISIBLE_TEXTS)
    assert not (left := _english(texts, english)), f"English left: {left}"
    settled(page)
    page.screenshot(path=str(SCREENSHOTS / "fr-schedules.png"))
    editor.get_by_role("button", name="Annuler").or_(
        editor.get_by_role("button", name=fr["Cancel"])).first.click()

    # the pipeline graph (view), then Edit mode and a step's side form
    page.goto(f"{lab.url}lab/tree/churn.pipeline.yaml?token={TOKEN}&reset")
    widget = page.locator(".jp-MlShip-pipelineWidget")
    widget.locator(".jp-MlShip-graph[data-steps='3']").wait_for(timeout=90_000)
    texts = widget.evaluate(VISIBLE_TEXTS)
    assert not (left := _english(texts, english)), f"English left: {left}"
    widget.locator(".jp-Toolbar").get_by_text(fr["Edit"], exact=True).click()
    canvas = widget.locator(".jp-MlShip-editorCanvas")
    canvas.locator("[data-step='train']").click()
    form = widget.locator(".jp-MlShip-stepForm[data-step='train']")
    form.wait_for()
    texts = widget.evaluate(VISIBLE_TEXTS) + form.evaluate(
        "e => [...e.querySelectorAll('option, [title], [aria-label]')].map("
        "o => [o.tagName === 'OPTION' ? o.text : (o.title || o.getAttribute('aria-label')), 'attr'])")
    assert not (left := _english(texts, english)), f"English left: {left}"
    settled(page)
    page.screenshot(path=str(SCREENSHOTS / "fr-pipeline-editor.png"))
