"""An R notebook (IRkernel) in the lab: its Ship dialog shows the R parameters cell as typed
fields (a number, an integer, text, a checkbox, a JSON list), and Ship & run runs it with the
values typed there. Screenshot: docs/screenshots/ship-r.png. Needs R and IRkernel
(scripts/r-up.sh): skipped without them unless ML_SHIP_REQUIRE names ``r``."""

from __future__ import annotations

import json
import shutil

from playwright.sync_api import expect

from jupyter_ml_ship.languages import installed_kernels
from tests.python.conftest import REPO, require
from tests.ui.conftest import settled
from tests.ui.test_lab_flow import api, open_notebook, press, ship_dialog, succeeded_with_line

R_PARAMETERS = ('threshold <- 0.5  # share of rows to flag\nrows <- 100L\n'
                'region = "north"\nverbose <- TRUE\nweights <- c(1, 2, 3)')


def write_r_notebook(path) -> None:
    path.write_text(json.dumps({
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": R_PARAMETERS,
             "outputs": [], "execution_count": None},
            {"cell_type": "code", "metadata": {},
             "source": 'cat(sprintf("r says %s %d %s\\n", region, rows, sum(weights)))\n'
                       'record("flagged", threshold * rows)',
             "outputs": [], "execution_count": None}],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"},
                     "language_info": {"name": "R"}},
    }))


def test_an_r_notebooks_ship_dialog_shows_typed_parameters(page, lab):
    require("r", "ir" in installed_kernels(),
            "no 'ir' Jupyter kernel (run scripts/r-up.sh: R and IRkernel)")
    write_r_notebook(lab.root / "r_model.ipynb")
    open_notebook(page, lab, "r_model.ipynb")
    dialog = ship_dialog(page)
    fields = {name: dialog.locator(f"#jp-MlShip-param-{name}")
              for name in ("threshold", "rows", "region", "verbose", "weights")}
    for field in fields.values():
        field.wait_for()
    expect(fields["verbose"]).to_have_attribute("type", "checkbox")
    expect(fields["verbose"]).to_be_checked()
    form = dialog.locator(".jp-MlShip-shipForm")
    hints = form.locator(".jp-MlShip-param-type").all_inner_texts()
    assert hints == ["number", "integer", "text", "true / false", "JSON list"], hints
    assert "share of rows to flag" in form.inner_text()  # the R comment is the help
    fields["rows"].fill("lots")  # an integer field refuses text
    expect(dialog.get_by_role("button", name="Ship & run", exact=True)).to_be_disabled()
    fields["rows"].fill("40")
    fields["region"].fill("south")
    fields["weights"].fill("[2, 3]")
    settled(page)
    page.shot("ship-r")
    shutil.copyfile(
        REPO / "tests" / "ui" / "artifacts"
        / "test_an_r_notebooks_ship_dialog_shows_typed_parameters-ship-r.png",
        REPO / "docs" / "screenshots" / "ship-r.png")
    press(dialog, "Ship & run")
    body = succeeded_with_line(page, lab, "r-model", "r says south 40 5")
    assert body is not None
    version = api(lab, "/jobs/r-model/versions")
    items = version["versions"] if isinstance(version, dict) else version
    assert [(p["name"], p["type"]) for p in items[0]["parameters"]] == [
        ("threshold", "float"), ("rows", "int"), ("region", "str"), ("verbose", "bool"),
        ("weights", "list")]
