"""``ml-ship --url URL --token TOKEN …`` against a live ``jupyter server`` (started here on
127.0.0.1 with a token, one per module): ship uploads the project as one stream, run --wait
prints the log, the same exit codes as local; a bad token and hostile uploads are refused with
nothing stored; the CI workflows in docs/ci run as written."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from jupyter_ml_ship.config import MlShip

from .conftest import make_notebook, stop_process

TOKEN = "remote-test-token"
SERVER_LIMIT = 1024 * 1024  # the server's MlShip.max_project_bytes in these tests
ML_SHIP = str(Path(sys.executable).with_name("ml-ship"))


@dataclass
class Server:
    url: str
    home: Path
    root: Path

    def env(self, token: str | None = TOKEN, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ML_SHIP_")}
        env.update(ML_SHIP_URL=self.url, ML_SHIP_HOME=str(self.home.parent / "client-home"),
                   PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}", **extra)
        if token is not None:
            env["ML_SHIP_TOKEN"] = token
        return env

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}ml-ship/api/{path}",
                         headers={"Authorization": f"token {TOKEN}"}, timeout=30)

    def jobs(self) -> list[str]:
        return [j["name"] for j in self.get("jobs").json()["jobs"]]

    def stored(self) -> tuple[int, list[str]]:
        """Blobs in the server's store, and what is left in its upload folder."""
        blobs = self.home / "blobs"
        uploads = self.home / "uploads"
        return (sum(1 for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else 0,
                sorted(p.name for p in uploads.iterdir()) if uploads.exists() else [])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def live_server(top: Path, *options: str) -> Iterator[Server]:
    """A real ``jupyter server`` on 127.0.0.1 with the token ``TOKEN``, its ML Ship home and root
    under ``top``, ``options`` added to its command line; stopped (and its warm runner) at exit."""
    home, root = top / "server-home", top / "server-root"
    root.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_SHIP_")}
    env["ML_SHIP_HOME"] = str(home)
    log = open(top / "server.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={TOKEN}",
         "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}", "--allow-root",
         "--MlShip.freeze_environment=False", *options],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    try:
        while True:  # up when it answers an authenticated API call
            try:
                if httpx.get(f"{url}api/me", headers={"Authorization": f"token {TOKEN}"},
                             timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("jupyter server did not start: " +
                                   (top / "server.log").read_text()[-3000:])
            time.sleep(0.1)
        yield Server(url, home, root)
    finally:
        stop_process(proc)
        log.close()
        from jupyter_ml_ship.runner import _warm

        _warm.stop(MlShip(home=str(home)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("remote"),
                     f"--MlShip.max_project_bytes={SERVER_LIMIT}") as srv:
        yield srv


def ml_ship(*args: str, env: dict[str, str], cwd: Path,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ML_SHIP, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def project(folder: Path, code: str, name: str = "job.ipynb", **kw: object) -> Path:
    make_notebook(folder / name, code, **kw)  # type: ignore[arg-type]
    (folder / "data.csv").write_text("a,b\n1,2\n")
    return folder


def test_ship_run_wait_status_versions_rollback_over_rest(server: Server,
                                                           tmp_path: Path) -> None:
    work = project(tmp_path / "proj", "print(open('data.csv').read().strip(), 'x =', x)",
                   params="x = 1")
    (work / ".shipignore").write_text("scratch/\n")
    (work / "scratch").mkdir()
    (work / "scratch" / "big.tmp").write_bytes(b"left out" * 1000)
    env = server.env()
    shipped = ml_ship("ship", "job.ipynb", "-m", "first", env=env, cwd=work)
    assert shipped.returncode == 0, shipped.stderr
    assert "shipped job v1 (new version" in shipped.stderr
    assert "1 project file(s)" in shipped.stderr  # data.csv went along, in the one stream
    files = server.get("jobs/job/versions/1/files").json()["files"]
    assert [f["path"] for f in files] == ["data.csv"]  # .shipignore'd scratch/ stayed home

    ran = ml_ship("run", "job", "-p", "x", "42", "--wait", env=env, cwd=work)
    assert ran.returncode == 0, ran.stderr
    assert "a,b\n1,2 x = 42" in ran.stdout  # the live log, printed as it came
    assert re.search(r"^run \S+ succeeded in [\d.]+s$", ran.stderr, re.M), ran.stderr
    run_id = ran.stderr.split()[1]

    status = ml_ship("status", run_id, env=env, cwd=work)
    assert status.returncode == 0 and "succeeded" in status.stdout, status.stderr
    info = json.loads(ml_ship("status", run_id, "--json", env=env, cwd=work).stdout)
    assert info["parameters"] == {"x": 42} and info["status"] == "succeeded"
    runs = ml_ship("runs", "--job", "job", env=env, cwd=work)
    assert run_id in runs.stdout
    out = ml_ship("output", run_id, "-o", str(tmp_path / "out.ipynb"), env=env, cwd=work)
    assert out.returncode == 0 and "x = 42" in (tmp_path / "out.ipynb").read_text()
    local_only = ml_ship("schedules", env=env, cwd=work)
    assert local_only.returncode == 2
    assert "does not work against a remote server yet" in local_only.stderr

    make_notebook(work / "job.ipynb", "print('second version')")
    assert "shipped job v2 (new version" in ml_ship("ship", "job.ipynb", env=env,
                                                    cwd=work).stderr
    back = ml_ship("rollback", "job", "1", env=env, cwd=work)
    assert back.returncode == 0 and "job: current version is now v1" in back.stderr
    versions = ml_ship("versions", "job", env=env, cwd=work).stdout
    assert re.search(r"^\*\s+v1\s", versions, re.M) and re.search(r"^\s+v2\s", versions, re.M)
    jobs = json.loads(ml_ship("jobs", "--json", env=env, cwd=work).stdout)["jobs"]
    assert {j["name"]: j["current_version"] for j in jobs}["job"] == 1
    missing = ml_ship("status", "nope", env=env, cwd=work)
    assert missing.returncode == 2 and "no run with id 'nope'" in missing.stderr


def test_run_wait_follows_the_log_live_over_the_websocket(server: Server,
                                                          tmp_path: Path) -> None:
    """``ml-ship --url … run --wait`` prints each line as the run writes it (the server's log
    WebSocket, ``GET /runs/{id}/logs/ws``), and the whole log with the run's end."""
    from jupyter_ml_ship.cli._remote import RemoteService

    gate = tmp_path / "go"
    work = project(tmp_path / "live", "import os, time\nprint('waiting', flush=True)\n"
                   f"deadline = time.time() + 60\nwhile not os.path.exists({str(gate)!r}) "
                   "and time.time() < deadline:\n    time.sleep(0.05)\nprint('released')",
                   name="live.ipynb")
    env = server.env()
    assert ml_ship("ship", "live.ipynb", env=env, cwd=work).returncode == 0
    proc = subprocess.Popen([ML_SHIP, "run", "live", "--wait"], env=env, cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        seen = ""
        while "waiting" not in seen:  # live: the run is still blocked on the gate
            line = proc.stdout.readline()
            assert line, "the log ended before 'waiting': " + (proc.stderr.read() if
                                                               proc.stderr else "")
            seen += line
        gate.write_text("")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "released" in out and (seen + out).count("waiting") == 1  # nothing printed twice
    run_id = err.split()[1]
    buffer = io.StringIO()
    remote = RemoteService(server.url, TOKEN, MlShip())
    ended, offset = remote.stream_log(run_id, buffer)  # the ended run: its whole log, then done
    assert ended and "waiting" in buffer.getvalue() and "released" in buffer.getvalue()
    assert offset == len(remote.read_log(run_id)[0])


def test_a_failing_run_exits_as_it_does_locally(server: Server, tmp_path: Path) -> None:
    work = project(tmp_path / "proj", "print('about to fail')\nraise ValueError('boom')",
                   name="fails.ipynb")
    remote = ml_ship("ship", "fails.ipynb", "--wait", env=server.env(), cwd=work)
    local_env = {k: v for k, v in server.env().items()
                 if k not in ("ML_SHIP_URL", "ML_SHIP_TOKEN")}
    local_env["ML_SHIP_HOME"] = str(tmp_path / "local-home")
    local = ml_ship("ship", "fails.ipynb", "--wait", env=local_env, cwd=work)
    assert remote.returncode == local.returncode == 1, (remote.stderr, local.stderr)
    assert "about to fail" in remote.stdout and "about to fail" in local.stdout
    for done in (remote, local):
        assert "raised ValueError: boom" in done.stderr.splitlines()[-1]


def test_a_bad_token_or_no_server_is_refused_clearly(server: Server, tmp_path: Path) -> None:
    work = project(tmp_path / "proj", "print(1)", name="secret.ipynb")
    before = server.stored()
    bad = ml_ship("ship", "secret.ipynb", env=server.env(token="wrong"), cwd=work)
    assert bad.returncode == 2
    assert "the token was refused (HTTP 403); check --token / ML_SHIP_TOKEN" in bad.stderr
    flag = ml_ship("--token", "wrong", "jobs", env=server.env(token=None), cwd=work)
    assert flag.returncode == 2 and "token was refused" in flag.stderr
    none = ml_ship("jobs", env=server.env(token=None), cwd=work)
    assert none.returncode == 2 and "no token was given" in none.stderr
    assert "secret" not in server.jobs() and server.stored() == before
    down = ml_ship("--url", f"http://127.0.0.1:{free_port()}/", "jobs", env=server.env(),
                   cwd=work)
    assert down.returncode == 2 and "cannot reach http://127.0.0.1:" in down.stderr


def test_a_link_out_or_an_oversized_project_is_refused_whole(server: Server,
                                                             tmp_path: Path) -> None:
    env = server.env()
    before = server.stored()
    work = project(tmp_path / "linked", "print(1)", name="linked.ipynb")
    (work / "passwd").symlink_to("/etc/passwd")
    linked = ml_ship("ship", "linked.ipynb", env=env, cwd=work)
    assert linked.returncode == 2 and "outside the project folder" in linked.stderr

    big = project(tmp_path / "big", "print(1)", name="big.ipynb")
    (big / "blob.bin").write_bytes(os.urandom(SERVER_LIMIT + 1))
    mine = ml_ship("ship", "big.ipynb", "--max-bytes", "512K", env=env, cwd=big)
    assert mine.returncode == 2 and "limit 512.0 KB" in mine.stderr  # refused before sending
    theirs = ml_ship("ship", "big.ipynb", "--max-bytes", "10M", env=env, cwd=big)
    assert theirs.returncode == 2, theirs.stderr  # the server's own limit, checked again
    assert "limit of this server, MlShip.max_project_bytes" in theirs.stderr

    # a client that does not check: links, '..' and absolute names are refused server-side
    def upload(*members: tarfile.TarInfo, data: bytes = b"x") -> httpx.Response:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            nb = (work / "linked.ipynb").read_bytes()
            info = tarfile.TarInfo("linked.ipynb")
            info.size = len(nb)
            tar.addfile(info, io.BytesIO(nb))
            for m in members:
                tar.addfile(m, io.BytesIO(data) if m.isfile() else None)
        return httpx.post(f"{server.url}ml-ship/api/ship/upload",
                          params={"notebook": "linked.ipynb"}, content=buf.getvalue(),
                          headers={"Authorization": f"token {TOKEN}",
                                   "Content-Type": "application/x-tar"}, timeout=30)

    def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
        m = tarfile.TarInfo(name)
        m.type, m.linkname, m.size = kind, link, (1 if kind == tarfile.REGTYPE else 0)
        return m

    for hostile, says in [
        (member("passwd", tarfile.SYMTYPE, "/etc/passwd"), "is a link (to /etc/passwd)"),
        (member("hard", tarfile.LNKTYPE, "linked.ipynb"), "is a link"),
        (member("../escape.txt"), "leaves the project folder"),
        (member("/abs.txt"), "is not a relative path"),
    ]:
        r = upload(member("ok.txt"), hostile)
        assert r.status_code == 400, r.text
        assert says in r.json()["message"]
    r = upload(*(member(f"f{i}.bin") for i in range(3)), data=b"y")
    assert r.status_code == 201 and r.json()["version"]["project"]["files"] == 3
    assert "linked" in server.jobs()
    for job in ("big",):
        assert job not in server.jobs()
    blobs, leftovers = server.stored()
    assert leftovers == [] and blobs <= before[0] + 3  # the accepted ship's files only


def test_the_upload_route_refuses_over_the_limit_with_413(server: Server) -> None:
    """A tar declaring more bytes than the server allows: 413 before its data is stored."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("nb.ipynb")
        nb = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
        info.size = len(nb)
        tar.addfile(info, io.BytesIO(nb))
        big = tarfile.TarInfo("big.bin")
        big.size = SERVER_LIMIT + 1
        tar.addfile(big, io.BytesIO(b"\0" * big.size))
    before = server.stored()
    r = httpx.post(f"{server.url}ml-ship/api/ship/upload", params={"notebook": "nb.ipynb"},
                   content=buf.getvalue(), timeout=30,
                   headers={"Authorization": f"token {TOKEN}"})
    assert r.status_code == 413 and r.json()["error"] == "too_large", r.text
    assert "nb" not in server.jobs() and server.stored() == before


# ---- the CI workflows of docs/ci, run as written ---------------------------------------------

DOCS_CI = Path(__file__).resolve().parents[2] / "docs" / "ci"
INSTALL = "pip install jupyter-ml-ship"  # the one line not run: the checkout is installed here


def merged_repo(folder: Path, message: str) -> Path:
    """A repository's checkout after a merge: a notebook whose gate puts it in staging."""
    make_notebook(folder / "notebooks" / "train.ipynb",
                  f"print('training', rows, {message!r})", params="rows = 10",
                  metadata={"ml_ship": {"promote": {"to": "staging",
                                                    "validate": {"parameters": {"rows": 3}}}}})
    (folder / "notebooks" / "features.csv").write_text("a,b\n1,2\n")
    return folder


def shell(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done


def dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (GitHub's $GITHUB_ENV file, GitLab's dotenv report)."""
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def environments(server: Server, job: str) -> dict[str, int]:
    info = server.get(f"jobs/{job}").json()
    return {**info.get("environments", {}), "production": info["current_version"]}


def test_the_documented_ci_workflows_ship_and_promote_to_production(
        server: Server, tmp_path: Path) -> None:
    import yaml

    # GitHub Actions: on a push to main, the steps' run: lines in order, $GITHUB_ENV between
    gh = yaml.safe_load((DOCS_CI / "github-actions.yml").read_text())
    assert gh[True] == {"push": {"branches": ["main"]}}  # YAML 1.1 reads the key 'on' as True
    assert gh["env"]["ML_SHIP_URL"] == "${{ secrets.ML_SHIP_URL }}"
    assert gh["env"]["ML_SHIP_TOKEN"] == "${{ secrets.ML_SHIP_TOKEN }}"
    runs = [step["run"] for step in gh["jobs"]["ship"]["steps"] if "run" in step]
    assert runs[0] == INSTALL
    repo = merged_repo(tmp_path / "github", "first merge")
    env = server.env(**{k: v for k, v in gh["env"].items() if not v.startswith("${{")},
                     GITHUB_SHA="4f1c2d3", GITHUB_ENV=str(tmp_path / "github.env"))
    outputs = []
    for script in runs[1:]:
        outputs.append(shell(script, env, repo))
        env.update(dotenv(tmp_path / "github.env"))
    version = int(env["VERSION"])
    assert env["GATE"] and "training 3 first merge" in outputs[1].stdout  # the gate's log
    assert "is now the current version (production)" in outputs[2].stderr
    assert environments(server, "train") == {"staging": version, "production": version}

    # GitLab CI: the ship stage's script in one shell, its dotenv report into the promote stage
    gl = yaml.safe_load((DOCS_CI / "gitlab-ci.yml").read_text())
    assert gl["stages"] == ["ship", "promote"] and gl["default"]["before_script"] == [INSTALL]
    repo = merged_repo(tmp_path / "gitlab", "second merge")  # a new commit: a new version
    env = server.env(**gl["variables"], CI_COMMIT_SHA="9e8d7c6", CI_COMMIT_BRANCH="main",
                     CI_DEFAULT_BRANCH="main")
    done = {}
    for stage in gl["stages"]:
        job = gl[stage]
        assert job["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
        done[stage] = shell("\n".join(job["script"]), env, repo)
        report = job.get("artifacts", {}).get("reports", {}).get("dotenv")
        if report:
            env.update(dotenv(repo / report))
    assert int(env["VERSION"]) == version + 1
    assert "training 3 second merge" in done["ship"].stdout
    assert f"v{version + 1} is now the current version" in done["promote"].stderr
    assert environments(server, "train") == {"staging": version + 1,
                                             "production": version + 1}
    promotions = [e["data"] for e in server.get("jobs/train/audit").json()["events"]
                  if e["kind"] == "promote"]  # audited: the gate's to staging, CI's to production
    assert {(d.get("environment", "production"), d["to"]) for d in promotions} >= {
        ("staging", version + 1), ("production", version + 1)}


def test_unpack_refuses_a_name_twice_and_a_file_used_as_a_folder(tmp_path: Path) -> None:
    """The server's unpacking on its own: whole or nothing, whatever order the stream has."""
    from jupyter_ml_ship.errors import BadInput
    from jupyter_ml_ship.notebook.bundle import unpack
    from jupyter_ml_ship.server._upload import tidy_stale

    def stream(*names: str) -> io.BytesIO:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name in names:
                info = tarfile.TarInfo(name)
                info.size = 2
                tar.addfile(info, io.BytesIO(b"ok"))
        buf.seek(0)
        return buf

    limits = {"max_files": 10, "max_bytes": 100, "max_notebook_bytes": 100}
    for names, says in [(("nb.ipynb", "a.txt", "a.txt"), "a.txt is given twice"),
                        (("nb.ipynb", "a", "a/b.txt"), "is inside a, which is a file"),
                        (("a.txt",), "the notebook 'nb.ipynb' is not in it")]:
        with pytest.raises(BadInput, match=re.escape(says)):
            unpack(stream(*names), tmp_path / "dest", "nb.ipynb", **limits)
        assert not (tmp_path / "dest").exists()  # nothing left behind
    nb = unpack(stream("./nb.ipynb", "d/e.txt"), tmp_path / "dest", "nb.ipynb", **limits)
    assert nb.read_bytes() == b"ok" and (tmp_path / "dest" / "d" / "e.txt").is_file()
    old = tmp_path / "uploads" / "left-by-a-crash"
    old.mkdir(parents=True)
    os.utime(old, (0, 0))
    tidy_stale(tmp_path / "uploads")
    assert not old.exists()
