"""A PySpark run in the lab: the run view shows its Spark section (the application's id and
name, its master, the link to its Spark UI, and once it ended where its event log is kept).
Spark runs on ``local[1]`` in the shared lab (the real standalone cluster is in
tests/python/test_spark.py). Screenshot: docs/screenshots/run-spark.png. Skipped without pyspark
and Java unless ML_SHIP_REQUIRE names ``spark``."""

from __future__ import annotations

import json
import re
import shutil

from playwright.sync_api import expect

from tests.python.conftest import REPO, require
from tests.python.spark_harness import usable
from tests.ui.conftest import settled
from tests.ui.test_lab_flow import (
    LONG,
    api,
    open_notebook,
    press,
    ship_dialog,
    succeeded_with_line,
)


def write_spark_notebook(path) -> None:
    path.write_text(json.dumps({
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "rows = 10",
             "outputs": [], "execution_count": None},
            {"cell_type": "code", "metadata": {},
             "source": "print('spark counted', spark.range(rows).count())",
             "outputs": [], "execution_count": None}],
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "ml_ship": {"name": "ui-spark", "spark": {"master": "local[1]", "conf": {
                         # the driver and its UI on loopback, like every server of the tests
                         "spark.driver.bindAddress": "127.0.0.1",
                         "spark.driver.host": "127.0.0.1"}}}},
    }))


def test_the_run_view_shows_the_spark_application_and_its_ui_link(page, lab):
    ok, why = usable()
    require("spark", ok, why)
    write_spark_notebook(lab.root / "ui_spark.ipynb")
    open_notebook(page, lab, "ui_spark.ipynb")
    dialog = ship_dialog(page)
    dialog.locator("#jp-MlShip-param-rows").fill("25")
    press(dialog, "Ship & run")
    opened = page.locator(".jp-MlShip-runBody[data-run]").last
    opened.wait_for(timeout=LONG)
    run_id = opened.get_attribute("data-run")
    # a JVM starts first: on a busy 2-core machine that alone can take a minute
    page.locator(f".jp-MlShip-runBody[data-run='{run_id}'][data-status='succeeded']").wait_for(
        timeout=3 * LONG)
    body = succeeded_with_line(page, lab, "ui-spark", "spark counted 25")
    spark = api(lab, f"/runs/{run_id}")["spark"]
    section = body.locator(".jp-MlShip-runSpark")
    expect(section).to_be_visible(timeout=30_000)
    expect(section).to_have_attribute("data-spark-app", spark["app_id"])
    table = section.get_by_role("table", name="Spark")
    expect(table.get_by_role("row", name=re.compile("^Application"))).to_contain_text(
        f"{spark['app_id']} (ml-ship ui-spark {run_id})")
    expect(table.get_by_role("row", name=re.compile("^Master"))).to_contain_text("local[1]")
    link = section.locator("a[data-spark-ui]")
    expect(link).to_have_attribute("href", spark["ui_url"])
    assert spark["ui_url"].startswith("http://127.0.0.1:")
    expect(section).to_contain_text("its event log is in the run's files, spark/events")
    section.scroll_into_view_if_needed()
    settled(page)
    page.shot("run-spark")
    shutil.copyfile(
        REPO / "tests" / "ui" / "artifacts"
        / "test_the_run_view_shows_the_spark_application_and_its_ui_link-run-spark.png",
        REPO / "docs" / "screenshots" / "run-spark.png")
