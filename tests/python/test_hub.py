"""Team mode on a real JupyterHub: three users, one PostgreSQL store, one shared home, the agent.

The hub is docs/jupyterhub_config.py as written (loaded by a small test config that adds ports,
folders and an admin service token), with configurable-http-proxy from scripts/hub-up.sh and
user servers as local processes, all on 127.0.0.1; started once for the module, stopped after.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService

from .conftest import REPO, make_notebook, require
from .test_agent import seen_two_minutes_ago
from .test_postgres import pg_url  # noqa: F401 - the module-scoped PostgreSQL fixture

requests = pytest.importorskip("requests")

CHP = Path(os.environ.get("ML_SHIP_STATE_DIR", Path.home() / ".cache" / "ml-ship")) / "chp" / \
    "node_modules" / ".bin" / "configurable-http-proxy"
PASSWORD = "team-demo"
TIMEOUT = 90


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(check: Any, timeout: float, what: str, log: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(0.3)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


class Hub:
    def __init__(self, url: str, token: str, users: Path, log: Path):
        self.url, self.token, self.users, self.log = url, token, users, log
        self.tokens: dict[str, str] = {}

    def api(self, method: str, path: str, **kw: Any) -> Any:
        r = requests.request(method, f"{self.url}/hub/api{path}", timeout=30,
                             headers={"Authorization": f"token {self.token}"}, **kw)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def token_of(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = self.api("POST", f"/users/{user}/tokens",
                                         json={"note": "test"})["token"]
        return self.tokens[user]

    def start(self, user: str) -> None:
        (self.users / user).mkdir(parents=True, exist_ok=True)
        self.api("POST", f"/users/{user}/server")
        until(lambda: (self.api("GET", f"/users/{user}")["servers"].get("") or {})
              .get("ready"), TIMEOUT, f"{user}'s server", self.log)

    def stop(self, user: str) -> None:
        requests.delete(f"{self.url}/hub/api/users/{user}/server", timeout=30,
                        headers={"Authorization": f"token {self.token}"})
        until(lambda: not self.api("GET", f"/users/{user}")["servers"], TIMEOUT,
              f"{user}'s server to stop", self.log)

    def ml(self, user: str, method: str, path: str, *, on: str | None = None,
           token: str | None = None, headers: dict[str, str] | None = None,
           **kw: Any) -> requests.Response:
        """A request to ``/ml-ship/api`` on ``on``'s server (default: the user's own)."""
        return requests.request(
            method, f"{self.url}/user/{on or user}/ml-ship/api{path}", timeout=60,
            headers={"Authorization": f"token {token or self.token_of(user)}",
                     **(headers or {})}, **kw)


@pytest.fixture(scope="module")
def hub(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:  # noqa: F811
    require("hub", CHP.exists(), f"no {CHP}: run scripts/hub-up.sh")
    require("hub", shutil.which("node") is not None, "node is not on PATH")
    tmp = tmp_path_factory.mktemp("hub")
    home, users = tmp / "shared-home", tmp / "users"
    home.mkdir()
    port, token = _port(), secrets.token_hex(16)
    config = tmp / "test_config.py"
    config.write_text(f"""
load_subconfig({str(REPO / "docs" / "jupyterhub_config.py")!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_port = {_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{_port()}"
c.ConfigurableHTTPProxy.command = [{str(CHP)!r}]
c.JupyterHub.db_url = "sqlite:///{tmp / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(tmp / 'cookie_secret')!r}
c.SimpleLocalProcessSpawner.home_dir_template = {str(users / '{username}')!r}
c.Spawner.start_timeout = {TIMEOUT}
c.Spawner.http_timeout = {TIMEOUT}
c.Spawner.args = c.Spawner.args + ["--MlShip.schedule_interval=1",
                                   "--LabApp.news_url=None"]
c.JupyterHub.services.append({{"name": "test-admin", "api_token": {token!r}}})
c.JupyterHub.load_roles.append({{"name": "admin", "services": ["test-admin"]}})
""")
    env = {**os.environ, "ML_SHIP_DB_URL": pg_url, "ML_SHIP_HOME": str(home),
           "HUB_SHARED_PASSWORD": PASSWORD, "ML_SHIP_WARM_RUNNER": "0",
           "ML_SHIP_DISCOVER_INTERVAL": "0",
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    for key in [k for k in env if k.startswith("JUPYTERHUB_") or k == "ML_SHIP_TEAM_MODE"]:
        env.pop(key)
    log = tmp / "hub.log"
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)],
                            cwd=tmp, env=env, stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(f"http://127.0.0.1:{port}", token, users, log)
    try:
        until(lambda: proc.poll() is not None or requests.get(
            f"{hub.url}/hub/api", timeout=5).ok, 60, "the hub", log)
        assert proc.poll() is None, log.read_text()[-4000:]
        yield hub
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the hub stops its servers and the agent
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def workspace(hub: Hub, pg_url: str) -> Iterator[ShipService]:  # noqa: F811
    """The shared store, read directly (as the agent sees it)."""
    svc = ShipService(MlShip(home=str(hub.users.parent / "shared-home"), db_url=pg_url))
    yield svc
    svc.close()


def _json(r: requests.Response, status: int = 200) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json() if r.content else None


def _wait_run(hub: Hub, user: str, run_id: str) -> dict[str, Any]:
    return until(lambda: (lambda r: r if r["status"] in (
        "succeeded", "failed", "cancelled", "timed_out") else None)(
        _json(hub.ml(user, "GET", f"/runs/{run_id}"))), TIMEOUT, f"run {run_id}", hub.log)


def test_two_people_share_a_job_with_owners_roles_and_an_audit_trail(hub: Hub, workspace):
    for user in ("ada", "grace", "hopper"):
        hub.start(user)
    health = _json(hub.ml("ada", "GET", "/health"))
    assert health["team_mode"] and health["store"] == "postgresql"
    until(lambda: _json(hub.ml("ada", "GET", "/health"))["agent"], 30, "the agent", hub.log)

    meta = {"ml_ship": {"run_by": "team", "schedule": "* * * * *", "owners": ["data-science"]}}
    make_notebook(hub.users / "ada" / "nightly.ipynb", "print(f'nightly {n}')", params="n = 1",
                  metadata=meta)
    shipped = _json(hub.ml("ada", "POST", "/ship", json={"path": "nightly.ipynb"}), 201)
    assert shipped["job"]["owner"] == "ada" and shipped["version"]["author"] == "ada"
    make_notebook(hub.users / "ada" / "nightly.ipynb", "print(f'nightly v2 {n}')",
                  params="n = 1", metadata=meta)
    assert _json(hub.ml("ada", "POST", "/ship", json={"path": "nightly.ipynb"}),
                 201)["version"]["number"] == 2

    # bad input: an owner group the hub does not have
    make_notebook(hub.users / "ada" / "typo.ipynb", "1",
                  metadata={"ml_ship": {"owners": ["data-sceince"]}})
    r = hub.ml("ada", "POST", "/ship", json={"path": "typo.ipynb"})
    assert r.status_code == 400 and "no JupyterHub group named 'data-sceince'" in r.text

    # grace sees it, may run it (run_by: team) but not roll it back
    jobs = {j["name"]: j for j in _json(hub.ml("grace", "GET", "/jobs"))["jobs"]}
    seen = jobs["nightly"]
    assert seen["owner"] == "ada" and seen["run_by"] == "team"
    assert seen["permissions"]["run"]["allowed"]
    assert not seen["permissions"]["rollback"]["allowed"]
    assert "only its owner ada" in seen["permissions"]["rollback"]["reason"]
    r = hub.ml("grace", "POST", "/jobs/nightly/rollback", json={"version": 1})
    assert r.status_code == 403 and _json(r, 403)["error"] == "forbidden"
    assert "grace may not roll back job nightly" in r.json()["message"]
    # a forged identity header changes nothing; another user's token is refused by the hub
    r = hub.ml("grace", "POST", "/jobs/nightly/rollback", json={"version": 1},
               headers={"X-Forwarded-User": "ada", "X-Remote-User": "ada",
                        "JUPYTERHUB_USER": "ada"})
    assert r.status_code == 403 and "grace may not" in r.text
    r = hub.ml("grace", "POST", "/jobs/nightly/rollback", on="ada", json={"version": 1})
    assert r.status_code == 403 and "ml-ship" not in r.text  # the hub's, not ours

    run = _json(hub.ml("grace", "POST", "/runs", json={"job": "nightly", "parameters":
                                                        {"n": 7}}), 201)
    assert run["started_by"] == "grace" and run["status"] == "queued"  # for the agent
    done = _wait_run(hub, "grace", run["id"])
    assert done["status"] == "succeeded", done
    assert b"nightly v2 7" in workspace.read_log(run["id"])[0]

    # an ml-ship admin (group ml-ship-admins) rolls it back
    back = _json(hub.ml("hopper", "POST", "/jobs/nightly/rollback", json={"version": 1}))
    assert back["current_version"] == 1 and back["permissions"]["delete"]["allowed"]

    # ada's pipeline runs on while her server stops, and her schedule still fires
    pipe = hub.users / "ada" / "pipe"
    make_notebook(pipe / "slow.ipynb", "import time\ntime.sleep(6)",
                  "from jupyter_ml_ship import record\nrecord('rows', 3)")
    make_notebook(pipe / "after.ipynb", "print(f'after {rows}')", params="rows = 0")
    (pipe / "team.pipeline.yaml").write_text(
        "name: team\nsteps:\n  slow: {notebook: slow.ipynb}\n  after:\n"
        "    notebook: after.ipynb\n    depends_on: [slow]\n"
        "    parameters: {rows: '{{ steps.slow.outputs.rows }}'}\n")
    _json(hub.ml("ada", "POST", "/pipelines", json={"path": "pipe/team.pipeline.yaml"}), 201)
    prun = _json(hub.ml("ada", "POST", "/pipelines/team/runs", json={}), 201)
    assert prun["started_by"] == "ada"
    until(lambda: workspace.get_pipeline_run(prun["id"], reconcile=False).steps[0].status
          == "running", TIMEOUT, "the pipeline's first step", hub.log)
    hub.stop("ada")
    seen_two_minutes_ago(workspace, "nightly", version=1)
    fired = until(lambda: [r for r in workspace.runs(job="nightly")[0]
                           if r.started_by == "schedule"], TIMEOUT, "the schedule's run",
                  hub.log)
    assert workspace.wait(fired[0].id, TIMEOUT).status == "succeeded"
    finished = until(lambda: (lambda p: p if p.status in ("succeeded", "failed") else None)(
        workspace.get_pipeline_run(prun["id"], reconcile=False)), TIMEOUT,
        "the pipeline to finish", hub.log)
    assert finished.status == "succeeded", finished

    # the audit trail, newest first, as grace reads it
    trail = _json(hub.ml("grace", "GET", "/jobs/nightly/audit"))["events"]
    assert [(e["kind"], e["actor"]) for e in reversed(trail)] == [
        ("ship", "ada"), ("ship", "ada"), ("run", "grace"), ("rollback", "hopper"),
        ("run", "schedule")]
    pipeline_trail = _json(hub.ml("grace", "GET", "/jobs/team/audit"))["events"]
    assert [(e["kind"], e["actor"]) for e in reversed(pipeline_trail)] == [
        ("pipeline-ship", "ada"), ("pipeline-run", "ada")]
    assert json.dumps(trail)  # plain JSON for the lab's History tab


# ---- the lab, in a real browser logged in at the hub ----------------------------------------

# Playwright's sync API runs its own event loop: no pytest-jupyter loop around these tests
@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    yield None


def _running(hub: Hub, user: str) -> None:
    (hub.users / user).mkdir(parents=True, exist_ok=True)
    if not (hub.api("GET", f"/users/{user}")["servers"].get("") or {}).get("ready"):
        hub.start(user)


def test_grace_sees_greyed_actions_and_mine_or_team_in_her_lab(hub: Hub) -> None:
    from tests.ui.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, set_theme

    require("browser", os.path.exists(CHROMIUM), f"{CHROMIUM} not found (scripts/browser-up.sh)")
    sync_api = pytest.importorskip("playwright.sync_api")
    for user in ("ada", "grace"):
        _running(hub, user)
    meta = {"ml_ship": {"run_by": "team", "owners": ["data-science"]}}
    for text in ("print('weekly')", "print('weekly v2')"):
        make_notebook(hub.users / "ada" / "weekly.ipynb", text, metadata=meta)
        _json(hub.ml("ada", "POST", "/ship", json={"path": "weekly.ipynb"}), 201)
    make_notebook(hub.users / "grace" / "grace_report.ipynb", "print('mine')")
    _json(hub.ml("grace", "POST", "/ship", json={"path": "grace_report.ipynb"}), 201)
    _json(hub.ml("grace", "POST", "/runs", json={"job": "weekly"}), 201)  # run_by: team
    flow = hub.users / "ada" / "flow"
    for text in ("print('flow v1')", "print('flow v2')"):  # a pipeline of ada's, in two versions
        make_notebook(flow / "step.ipynb", text)
        (flow / "weekly.pipeline.yaml").write_text("name: weekly-flow\nsteps:\n"
                                                   "  step: {notebook: step.ipynb}\n")
        shipped = _json(hub.ml("ada", "POST", "/pipelines",
                               json={"path": "flow/weekly.pipeline.yaml"}), 201)
    assert shipped["version"]["number"] == 2
    health = _json(hub.ml("grace", "GET", "/health"))
    assert health["user"] == {"name": "grace", "groups": ["analysts"], "admin": False}

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = lambda el, name: el.screenshot(path=str(ARTIFACTS / f"hub-grace-{name}.png"))  # noqa: E731
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)
        try:
            # the hub's own login page, as a person would
            page.goto(f"{hub.url}/hub/login")
            page.fill("input[name=username]", "grace")
            page.fill("input[name=password]", PASSWORD)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url("**/user/grace/**")
            page.goto(f"{hub.url}/user/grace/lab?reset")
            page.locator(".jp-SideBar li[title*='ML Ship']").first.click()
            panel = page.locator("#jp-MlShip-panel")
            weekly = panel.locator("li.jp-MlShip-jobItem[data-job='weekly']")
            mine = panel.locator("li.jp-MlShip-jobItem[data-job='grace-report']")
            weekly.wait_for()
            assert weekly.locator("[data-owner]").inner_text() == "ada · data-science"
            assert mine.locator("[data-owner]").inner_text() == "you"
            delete = weekly.locator(".jp-MlShip-jobDelete")
            assert delete.is_disabled()
            assert "grace may not delete job weekly" in delete.get_attribute("title")
            assert mine.locator(".jp-MlShip-jobDelete").is_enabled()

            whose = panel.get_by_label("Whose jobs")
            whose.select_option("team")
            weekly.wait_for()
            assert mine.count() == 0
            shot(panel, "team-filter")
            whose.select_option("mine")
            mine.wait_for()
            assert weekly.count() == 0
            whose.select_option("all")

            # ada's pipeline: grace reads its versions, its roll back is greyed with the reason
            pipeline = panel.locator("li[data-pipeline='weekly-flow']")
            pipeline.locator(".jp-MlShip-item").first.click()
            back = pipeline.get_by_role("button", name="Roll back to v1")
            back.wait_for()
            assert back.is_disabled()
            reason = back.get_attribute("title")
            assert reason.startswith("grace may not roll back pipeline weekly-flow"), reason
            assert "ada" in reason
            back.scroll_into_view_if_needed()
            shot(panel, "pipeline-rollback-greyed")

            weekly.locator(".jp-MlShip-item").click()
            job = panel.locator(".jp-MlShip-job[data-job='weekly']")
            run = job.locator(".jp-MlShip-runButton")
            assert run.is_enabled() and run.get_attribute("title") == "Run the current version"
            job.get_by_role("tab", name="Versions (2)").click()
            back = job.get_by_label("Roll back to v1")
            assert back.is_disabled()
            reason = back.get_attribute("title")
            assert reason.startswith("grace may not roll back job weekly") and "ada" in reason
            back.hover()
            shot(panel, "rollback-greyed")

            job.get_by_role("tab", name="History").click()
            items = job.locator(".jp-MlShip-audit-item")
            items.first.wait_for()
            assert [(i.get_attribute("data-kind"), i.get_attribute("data-actor"))
                    for i in items.all()] == [("run", "grace"), ("ship", "ada"), ("ship", "ada")]
            assert items.first.inner_text().startswith("grace started a run")
            shot(panel, "history-light")
            set_theme(page, "JupyterLab Dark")
            shot(panel, "history-dark")
            set_theme(page, "JupyterLab Light")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "hub-grace-failure.png"))
            raise
        finally:
            browser.close()
