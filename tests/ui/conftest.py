"""A real JupyterLab (with the extension) on 127.0.0.1 and a real Chromium driven by Playwright.

Screenshots of every step go to ``tests/ui/artifacts/`` (look at them: that is what a user sees).
Without Chromium or Playwright the tests skip on a laptop and fail in CI (ML_SHIP_REQUIRE=browser).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.python.conftest import EXAMPLES, REPO, require, stop_process

CHROMIUM = os.environ.get("ML_SHIP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "ui" / "artifacts"
DOCS = REPO / "docs" / "screenshots"
TOKEN = "ml-ship-ui-test-token"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, url: str, root: Path, home: Path):
        self.url, self.root, self.home = url, root, home

    def api(self, path: str) -> str:
        return f"{self.url}ml-ship/api{path}?token={TOKEN}"


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with run_lab(tmp_path_factory.mktemp("lab")) as running:
        yield running


@contextlib.contextmanager
def run_lab(base: Path, env_extra: dict[str, str] | None = None,
            args: tuple[str, ...] = ()) -> Iterator[Lab]:
    """A JupyterLab with the extension on 127.0.0.1 (root: a copy of examples/, ML_SHIP_HOME:
    base/home); ``env_extra``: more environment (secrets), ``args``: more options."""
    root, home = base / "root", base / "home"
    shutil.copytree(EXAMPLES, root)
    port = _free_port()
    env = dict(os.environ)
    env.update(ML_SHIP_HOME=str(home), JUPYTER_CONFIG_DIR=str(base / "config"),
               JUPYTER_RUNTIME_DIR=str(base / "runtime"), PYTHONUNBUFFERED="1")
    env.update(env_extra or {})
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    labconfig = base / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}'
    )
    log = open(base / "jupyter.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--ServerApp.allow_root=True", *args],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}ml-ship/api/health?token={TOKEN}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "JupyterLab did not start:\n" + (base / "jupyter.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.3)
        yield Lab(url, root, home)
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require("browser", os.path.exists(CHROMIUM), f"{CHROMIUM} not found (scripts/browser-up.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        require("browser", False, f"python playwright missing: {exc}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, lab: Lab, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    console: list[str] = []
    pg.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    pg.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.shot = lambda name: pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"))
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        pg.shot("failure")
        (ARTIFACTS / f"{request.node.name}-console.txt").write_text("\n".join(console))
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


# pytest-jupyter (declared in the root conftest for the server tests) makes an asyncio loop
# current around every test; Playwright's sync API runs its own loop: switch those off here.
@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    yield None


def set_theme(page, name: str) -> None:
    """Switch the lab's theme from its Settings menu and wait until it applies."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel").get_by_text(name, exact=True).click()
    # the lab marks the theme once its CSS has loaded, hides the shell, and shows it again (laid
    # out anew) at the next frame
    page.wait_for_function(
        "dark => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')"
        " && !document.getElementById('main').classList.contains('lm-mod-hidden')",
        arg="Dark" in name,
    )
    settled(page)


def settled(page) -> None:
    """Wait until the page's CSS animations and transitions that end (a toast sliding in, a
    theme's colours) have ended and a frame has been drawn since: then a screenshot shows
    what a person sees. Spinners (infinite animations) are not waited for."""
    page.evaluate("""() => Promise.all(document.getAnimations()
        .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
        .map(a => a.finished.catch(() => null)))
      .then(() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done))))""")


def doc_shot(target, name: str, **options: object) -> None:
    """A picture for the docs: ``target`` (a page or a locator) shot into the test artifacts
    (``options``: Playwright's, e.g. ``clip``) and copied to docs/screenshots/ (the README's)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(ARTIFACTS / name), **options)
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTIFACTS / name, DOCS / name)


def wait_until_resolved(page, function: str, arg: object = None, timeout: float = 30_000) -> None:
    """Wait until the page's async ``function`` (JS source of ``arg => Promise``, e.g. a fetch of
    a REST answer) resolves to a truthy value, asked again every 100 ms for ``timeout`` ms.
    ``page.wait_for_function`` is not that: it does not await a returned Promise, and a Promise
    is truthy, so it returns at once whatever the answer."""
    ok = page.evaluate(
        f"""async ([arg, timeout]) => {{
          const ask = {function};
          const end = Date.now() + timeout;
          for (;;) {{
            try {{ if (await ask(arg)) return true; }} catch (e) {{ /* asked again */ }}
            if (Date.now() > end) return false;
            await new Promise(next => setTimeout(next, 100));
          }}
        }}""",
        [arg, timeout],
    )
    assert ok, f"not true within {timeout / 1000:.0f} s: {function}"


class HeldToasts:
    """What :func:`toasts_drawn_after` held back: ``held`` is how many toast-library scripts."""

    held = 0


@contextlib.contextmanager
def toasts_drawn_after(page, request_pattern: str) -> Iterator[HeldToasts]:
    """Make the lab draw its toasts only after the response to a request matching
    ``request_pattern`` (a regex on the URL) has come back: the order a busy machine gives at
    random, made certain. JupyterLab loads its toast library (react-toastify) with the first
    toast of a page, so a page that has shown no toast yet is held at that load."""
    held: list = []
    done = HeldToasts()
    answered: list[bool] = []

    def script(route) -> None:
        response = route.fetch()
        if not answered and "Toastify__toast-container" in response.text():
            held.append((route, response))
            done.held += 1
        else:
            route.fulfill(response=response)

    def work(route) -> None:
        response = route.fetch()
        route.fulfill(response=response)
        answered.append(True)
        while held:
            waiting, its_response = held.pop()
            waiting.fulfill(response=its_response)

    scripts, requests = re.compile(r"\.js(\?|$)"), re.compile(request_pattern)
    page.route(scripts, script)
    page.route(requests, work)
    try:
        yield done
    finally:
        page.unroute(scripts, script)
        page.unroute(requests, work)
        while held:
            waiting, its_response = held.pop()
            waiting.fulfill(response=its_response)
