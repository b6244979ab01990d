"""The panel says who does the periodic work: this Jupyter server, or an `ml-ship agent` (with
its host and pid) once one holds the store's lease."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.ui.conftest import ARTIFACTS
from tests.ui.test_lab_fixes import open_lab, open_panel


def test_the_panel_shows_the_agent_doing_the_periodic_work(page, lab):
    open_lab(page, lab)
    panel = open_panel(page)
    status = panel.locator(".jp-MlShip-agentStatus")
    status.wait_for(timeout=30_000)
    assert status.get_attribute("data-periodic") == "jupyter server"
    assert "this Jupyter server" in status.inner_text()
    env = {**os.environ, "ML_SHIP_HOME": str(lab.home)}
    log = open(lab.home.parent / "agent-ui.log", "ab")
    agent = subprocess.Popen([sys.executable, "-m", "jupyter_ml_ship", "agent"], env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while status.get_attribute("data-periodic") != "agent":
            assert time.monotonic() < deadline, status.inner_text()
            if agent.poll() is not None:
                raise AssertionError((lab.home.parent / "agent-ui.log").read_text())
            page.wait_for_timeout(500)
        text = status.inner_text()
        assert "ml-ship agent on" in text and f"pid {agent.pid}" in text, text
        status.screenshot(path=str(ARTIFACTS / "agent-status.png"))
    finally:
        agent.terminate()
        agent.wait(30)
