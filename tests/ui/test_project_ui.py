"""Projects in the lab, in a real JupyterLab in a real Chromium.

A project folder (``helper.py``, ``data/train.csv``, a hidden ``.env``, a ``.shipignore``d file)
and a notebook that imports the helper, reads the CSV and writes ``out.csv`` and ``plot.png``:
the Ship dialog says what will be shipped and what was left out; the run's view lists the
files it wrote with their sizes and previews the CSV (a table) and the image; after a change to
``helper.py`` and the notebook, v2 is compared with v1 (helper.py changed, the notebook cell
diff rendered by nbdime). A folder with a link out of it cannot be shipped (both Ship buttons
disabled, the reason shown); a pipeline step shows the file it took from upstream and opens that
run. Screenshots in the light and dark themes: tests/ui/artifacts/.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import ARTIFACTS, REPO, TOKEN, set_theme, settled, wait_until_resolved
from tests.ui.test_lab_flow import ship_dialog_ready

LONG = 150_000  # ms: a run starts a kernel on a busy 2-core machine
PANEL = ".jp-SideBar [data-id='jp-ml-ship-panel'], .jp-SideBar li[title*='ML Ship']"


def api(lab, route: str, **query: str):
    url = lab.api(route) + "".join(f"&{k}={urllib.parse.quote(v)}" for k, v in query.items())
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


HELPER = """import struct, zlib


def score(row):
    return int(row['x']) * 2


def write_png(path, values, width=120, height=60):
    \"\"\"A bar chart of the values as a PNG, with zlib alone (no plotting library).\"\"\"
    top = max(values) or 1
    bar = width // max(len(values), 1)
    lines = []
    for y in range(height):
        line = bytearray(b'\\x00')
        for x in range(width):
            i = x // bar
            on = i < len(values) and x % bar < bar - 6 and height - y <= values[i] * (height - 8) / top
            line += bytes((66, 133, 244) if on else (236, 239, 244))
        lines.append(bytes(line))

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', header)
                + chunk(b'IDAT', zlib.compress(b''.join(lines))) + chunk(b'IEND', b''))
"""


def code(source: str, tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "metadata": {"tags": tags or []}, "source": source,
            "outputs": [], "execution_count": None}


def write_project(root) -> None:
    proj = root / "proj"
    (proj / "data").mkdir(parents=True)
    (proj / "helper.py").write_text(HELPER)
    (proj / "data" / "train.csv").write_text(
        'name,x,comment\nada,1,"first, of all"\ngrace,2,"said ""hi"""\nlin,3,plain\n')
    (proj / ".env").write_text("SECRET=not-shipped\n")
    (proj / "data" / "big.bin").write_bytes(b"\0" * 4096)
    (proj / ".shipignore").write_text("data/big.bin\n")
    (proj / "train_proj.ipynb").write_text(json.dumps({
        "cells": [
            code("prefix = 'row'", ["parameters"]),
            code("import csv\nimport helper\n"
                 "rows = list(csv.DictReader(open('data/train.csv')))\n"
                 "print(f'read {len(rows)} rows')"),
            code("with open('out.csv', 'w') as f:\n"
                 "    f.write('name,score\\n')\n"
                 "    for r in rows:\n"
                 "        f.write(f\"{prefix}-{r['name']},{helper.score(r)}\\n\")\n"
                 "helper.write_png('plot.png', [helper.score(r) for r in rows])\n"
                 "open('metrics.json', 'w').write('{\"rows\": 3}')\n"
                 "print('wrote out.csv and plot.png')"),
        ],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
    }))


def open_notebook(page, lab, path: str) -> None:
    page.goto(f"{lab.url}lab/tree/{path}?token={TOKEN}&reset")
    page.locator(".jp-NotebookPanel-toolbar").first.wait_for(timeout=90_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()


def ship_dialog(page):
    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Ship", exact=True).click()
    dialog = ship_dialog_ready(page.locator(".jp-Dialog"))
    dialog.locator(".jp-MlShip-project[data-state='ready']").wait_for(timeout=30_000)
    return dialog


def hide_notifications(page) -> None:
    """Out of the screenshots from here on (until the page is loaded again)."""
    page.add_style_tag(content=".Toastify__toast-container { display: none !important; }")


def shot(page, locator, name: str) -> None:
    """A screenshot of one part of the page, beside the full ones."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"project-{name}.png"))


def test_ship_a_project_see_its_files_and_compare_versions(page, lab):
    write_project(lab.root)
    preview = api(lab, "/project", path="proj/train_proj.ipynb")
    assert preview["error"] is None and preview["root"] == "proj", preview
    assert preview["files"] == 2, preview  # helper.py, data/train.csv (the notebook not counted)

    # ---- the Ship dialog says what will be shipped -------------------------------------
    open_notebook(page, lab, "proj/train_proj.ipynb")
    dialog = ship_dialog(page)
    summary = dialog.locator(".jp-MlShip-projectSummary")
    assert summary.get_attribute("data-files") == "2"
    assert summary.inner_text().startswith("2 files, ")
    assert "from proj/" in summary.inner_text()
    dialog.locator(".jp-MlShip-projectDetails > summary").click()
    excluded = dialog.locator(".jp-MlShip-excluded")
    env = excluded.locator("li[data-excluded='.env']")
    assert "hidden" in env.inner_text()
    assert ".shipignore" in excluded.locator("li[data-excluded='data/big.bin']").inner_text()
    assert "helper.py" in dialog.locator(".jp-MlShip-largest").inner_text()
    assert dialog.get_by_role("button", name="Ship & run").is_enabled()
    page.shot("p01-ship-dialog")
    shot(page, dialog.locator(".jp-Dialog-content"), "ship-dialog-light")
    dialog.get_by_role("button", name="Ship & run").click()

    # ---- the run's files: sizes, the CSV as a table, the image --------------------------
    body = page.locator(".jp-MlShip-runBody[data-status='succeeded']").last
    body.wait_for(timeout=LONG)
    run_id = body.get_attribute("data-run")
    files = body.locator(".jp-MlShip-runFiles[data-state='ready']")
    out_row = files.locator("li[data-file='out.csv']")
    out_row.wait_for(timeout=30_000)
    listed = {f["path"]: f["size"] for f in api(lab, f"/runs/{run_id}/files")["files"]}
    assert {"out.csv", "plot.png", "metrics.json"} <= listed.keys(), listed
    assert out_row.locator(".jp-MlShip-size").get_attribute("data-size") == str(listed["out.csv"])
    assert out_row.locator(".jp-MlShip-size").inner_text() == f"{listed['out.csv']} B"
    assert "helper.py" not in listed and "data/train.csv" not in listed  # read, not written

    out_row.locator(".jp-MlShip-fileName").click()
    table = body.locator(".jp-MlShip-preview[data-preview='out.csv'] table.jp-MlShip-csv")
    table.wait_for()
    assert table.locator("thead th").all_inner_texts() == ["name", "score"]
    assert table.locator("tbody tr").first.locator("td").all_inner_texts() == ["row-ada", "2"]
    expect(table.locator("tbody tr")).to_have_count(3)
    hide_notifications(page)
    page.shot("p02-run-files-csv")
    shot(page, body, "run-artifacts-light")
    settled(page)
    page.screenshot(path=str(REPO / "docs" / "screenshots" / "run-artifacts.png"))  # README
    href = out_row.locator("a").get_attribute("href")
    assert href and "download=1" in href

    files.locator("li[data-file='plot.png'] .jp-MlShip-fileName").click()
    img = body.locator(".jp-MlShip-preview[data-preview='plot.png'] img")
    img.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth === 120", arg=img.element_handle())
    hide_notifications(page)
    page.shot("p03-run-files-image")

    files.locator("li[data-file='metrics.json'] .jp-MlShip-fileName").click()
    text = body.locator(".jp-MlShip-preview[data-preview='metrics.json'] .jp-MlShip-textPreview")
    expect(text).to_have_text('{"rows": 3}')  # (read from the server once opened)
    body.get_by_role("button", name="Close the preview").click()
    expect(body.locator(".jp-MlShip-preview")).to_have_count(0)

    # the version link opens the job's Versions tab on v1, its files unfolded
    body.locator(".jp-MlShip-versionLink").click()
    panel = page.locator(".jp-MlShip-panelBody")
    v1 = panel.locator(".jp-MlShip-versions li[data-version='1']")
    v1.locator(".jp-MlShip-versionFiles li[data-file='helper.py']").wait_for()
    assert v1.locator(".jp-MlShip-versionFiles li[data-file='data/train.csv']").count() == 1
    page.shot("p04-version-files")

    # ---- v2: helper.py and a cell changed; compare it with v1 ---------------------------
    helper = lab.root / "proj" / "helper.py"
    helper.write_text(helper.read_text().replace("* 2", "* 3  # v2"))
    open_notebook(page, lab, "proj/train_proj.ipynb")
    page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nprint('second version')")
    page.keyboard.press("Escape")
    dialog = ship_dialog(page)
    dialog.locator("#jp-MlShip-message").fill("score x3")
    dialog.get_by_role("button", name="Ship", exact=True).click()
    wait_until_resolved(
        page, "() => fetch('/ml-ship/api/jobs/train-proj').then(r => r.json())"
        ".then(j => j.current_version === 2)", timeout=LONG)

    page.locator(PANEL).first.click()
    panel.get_by_text("train-proj", exact=True).first.click()
    panel.locator(".jp-MlShip-tab").get_by_text(re.compile(r"^Versions")).click()
    panel.locator(".jp-MlShip-versions li[data-version='2']").wait_for()
    panel.get_by_label("Select v1 to compare").check()
    panel.get_by_label("Select v2 to compare").check()
    page.shot("p05-versions-selected")
    panel.locator(".jp-MlShip-compareSelected").click()

    compare = page.locator(".jp-MlShip-compare").last
    compare.locator(".jp-MlShip-compareHeader[data-a='1'][data-b='2']").wait_for(timeout=30_000)
    changed = compare.locator("tr[data-file='helper.py']")
    assert changed.get_attribute("data-change") == "changed"
    assert "1 cell changed" in compare.locator("[data-cells]").inner_text()
    nbdiff = compare.locator(".jp-Notebook-diff")
    nbdiff.locator(".jp-Cell-diff").first.wait_for(timeout=30_000)
    nbdiff.get_by_text("second version").first.wait_for()
    hide_notifications(page)
    settled(page)
    page.shot("p06-compare")
    shot(page, compare, "compare-light")

    # only the changed cell, then the text diff, and Compare with current from a version row
    unchanged = nbdiff.locator(":scope > .jp-Cell-diff.jp-Diff-unchanged")
    assert unchanged.count() == 2 and unchanged.first.is_visible()
    compare.get_by_label("Hide unchanged cells").check()
    assert not unchanged.first.is_visible()
    assert nbdiff.locator(":scope > :not(.jp-Diff-unchanged)").first.is_visible()
    compare.get_by_label("Hide unchanged cells").uncheck()
    compare.get_by_role("button", name="Text").click()
    diff_text = compare.locator(".jp-MlShip-textDiff")
    assert "second version" in diff_text.locator(".jp-MlShip-diffLine-added").all_inner_texts()[-1]
    compare.get_by_role("button", name="Cells").click()
    page.locator(".lm-TabBar-tab", has_text="train-proj: v1 ↔ v2").locator(
        ".lm-TabBar-tabCloseIcon").click()
    panel.get_by_label("Compare v1 with the current version").click()
    compare = page.locator(".jp-MlShip-compare").last
    compare.locator(".jp-MlShip-compareHeader[data-a='1'][data-b='2']").wait_for(timeout=30_000)
    assert compare.locator("tr[data-file='helper.py']").get_attribute("data-change") == "changed"

    # ---- the same views in the dark theme ----------------------------------------------
    set_theme(page, "JupyterLab Dark")
    try:
        compare.locator(".jp-Notebook-diff .jp-Cell-diff").first.wait_for(timeout=30_000)
        settled(page)
        page.shot("p07-compare-dark")
        shot(page, compare, "compare-dark")
        open_notebook(page, lab, "proj/train_proj.ipynb")
        hide_notifications(page)
        dialog = ship_dialog(page)
        dialog.locator(".jp-MlShip-projectDetails > summary").click()
        page.shot("p08-ship-dialog-dark")
        shot(page, dialog.locator(".jp-Dialog-content"), "ship-dialog-dark")
        dialog.get_by_role("button", name="Cancel").click()
        page.locator(PANEL).first.click()
        panel.get_by_text("train-proj", exact=True).first.click()
        panel.locator(f".jp-MlShip-runs li[data-run='{run_id}'] button").click()
        body = page.locator(f".jp-MlShip-runBody[data-run='{run_id}']")
        body.locator("li[data-file='out.csv'] .jp-MlShip-fileName").click()
        body.locator(".jp-MlShip-preview table.jp-MlShip-csv").wait_for()
        page.shot("p09-run-files-dark")
        shot(page, body, "run-artifacts-dark")
    finally:
        set_theme(page, "JupyterLab Light")


@pytest.fixture
def leaky(lab):
    """A folder with a link out of it, removed after the test: the lab's root is shared by the
    session, and a notebook at the root ships the folders below it (this link would refuse
    every such ship)."""
    bad = lab.root / "leaky"
    bad.mkdir()
    (bad / "etc").symlink_to("/etc")
    yield bad
    shutil.rmtree(bad)


def test_a_project_that_would_be_refused_cannot_be_shipped(page, lab, leaky):
    bad = leaky  # holds a link out of the project folder: never followed
    (bad / "leaky.ipynb").write_text(json.dumps({
        "cells": [code("print('hi')")], "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
    }))
    open_notebook(page, lab, "leaky/leaky.ipynb")
    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Ship", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    refused = dialog.locator(".jp-MlShip-project[data-state='refused']")
    refused.wait_for(timeout=30_000)
    message = refused.locator(".jp-MlShip-projectError").inner_text()
    assert message.startswith("Cannot ship:") and "etc" in message and "link" in message, message
    # neither Ship nor Ship & run can be pressed, Cancel can
    assert dialog.get_by_role("button", name="Ship", exact=True).is_disabled()
    assert dialog.get_by_role("button", name="Ship & run").is_disabled()
    page.shot("p10-ship-refused")
    dialog.get_by_role("button", name="Cancel").click()
    assert "leaky" not in [j["name"] for j in api(lab, "/jobs")["jobs"]]


def post(lab, route: str, body: dict) -> dict:
    request = urllib.request.Request(lab.api(route), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())


def notebook(*cells: dict) -> str:
    return json.dumps({
        "cells": list(cells), "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
    })


def test_a_step_shows_the_file_it_took_from_upstream_and_opens_that_run(page, lab):
    flow = lab.root / "flow"
    flow.mkdir()
    (flow / "prep.ipynb").write_text(notebook(code(
        "import os\nos.makedirs('out', exist_ok=True)\n"
        "open('out/clean.csv', 'w').write('x\\n1\\n2\\n')")))
    (flow / "fit.ipynb").write_text(notebook(
        code("data = ''", ["parameters"]),
        code("print('fit read', len(open(data).read().splitlines()) - 1, 'rows')")))
    (flow / "files.pipeline.yaml").write_text(
        "name: files-flow\nsteps:\n  prep:\n    notebook: prep.ipynb\n"
        "  fit:\n    notebook: fit.ipynb\n    depends_on: [prep]\n"
        "    parameters: {data: \"{{ steps.prep.files['out/clean.csv'] }}\"}\n")
    post(lab, "/pipelines", {"path": "flow/files.pipeline.yaml"})
    run = post(lab, "/pipelines/files-flow/runs", {})
    deadline = time.monotonic() + LONG / 1000
    while run["status"] not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, run
        time.sleep(0.5)
        run = api(lab, f"/pipeline-runs/{run['id']}")
    assert run["status"] == "succeeded", run
    steps = {s["id"]: s["run_id"] for s in run["steps"]}

    page.goto(f"{lab.url}lab?token={TOKEN}&reset")
    page.locator(PANEL).first.click()
    panel = page.locator(".jp-MlShip-panelBody")
    panel.get_by_text("fit", exact=True).first.click()
    panel.locator(f".jp-MlShip-runs li[data-run='{steps['fit']}'] button").click()
    body = page.locator(f".jp-MlShip-runBody[data-run='{steps['fit']}']")
    taken = body.locator(".jp-MlShip-runInputs li[data-input='data']")
    taken.wait_for(timeout=30_000)
    text = " ".join(taken.inner_text().split())
    assert text == f"data ← out/clean.csv from step prep (run #{steps['prep'][-6:]})", text
    hide_notifications(page)
    page.shot("p11-step-inputs")
    taken.get_by_role("button", name=f"run #{steps['prep'][-6:]}").click()
    upstream = page.locator(f".jp-MlShip-runBody[data-run='{steps['prep']}']")
    upstream.locator("li[data-file='out/clean.csv']").wait_for(timeout=30_000)
    page.shot("p12-upstream-run")
