"""Remote ship over REST vs local ship of the same 100 MB project (target: remote <= 1.5x).

A project of ``--files`` files, ``--mb`` MB of random bytes in all (nothing compresses), and a
live ``jupyter server`` on 127.0.0.1 with a token. Each round changes a few bytes at the start
of every file (so neither side finds it stored already: both read, hash and store it all),
then times, alternating which goes first:

- local:  ``ml-ship ship job.ipynb`` into a home of its own;
- remote: ``ml-ship --url URL --token T ship job.ipynb`` (the project as one tar stream to
  ``POST /ship/upload``, unpacked and shipped by the server into its home).

Prints the medians, the ratio and the machine's load (1-minute load average before and after,
and the cores): compare figures only within one run.

Usage: python bench/bench_remote.py [--files 100] [--mb 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _util import BIN, REPO, env_with, median, report, timed  # noqa: E402

sys.path.insert(0, str(REPO))
from tests.python.conftest import make_notebook  # noqa: E402

TOKEN = "bench-remote"


def make_project(top: Path, files: int, megabytes: int) -> None:
    size = megabytes * 1024 * 1024 // files
    for i in range(files):
        p = top / "data" / f"part{i:03d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
    make_notebook(top / "job.ipynb", "print('ran')", params="x = 1")


def salt(top: Path, round_: int) -> None:
    """A new start for every file: new content for both sides, nothing deduplicated."""
    for p in sorted((top / "data").iterdir()):
        with open(p, "r+b") as fh:
            fh.write(f"round {round_:06d} {p.name}".encode())


def start_server(root: Path, home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_SHIP_")}
    env["ML_SHIP_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={TOKEN}",
         "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}", "--allow-root",
         f"--MlShip.max_project_bytes={4 << 30}"],
        env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}api/me", headers={"Authorization": f"token {TOKEN}"},
                         timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("jupyter server did not start:\n" + log.read_text()[-3000:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    top = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    project, root = top / "project", top / "server-root"
    root.mkdir()
    make_project(project, args.files, args.mb)
    proc, url = start_server(root, top / "server-home", top / "server.log")
    ml_ship = str(BIN / "ml-ship")
    local_env = env_with(ML_SHIP_HOME=str(top / "local-home"))
    remote_env = env_with(ML_SHIP_URL=url, ML_SHIP_TOKEN=TOKEN,
                          ML_SHIP_HOME=str(top / "client-home"))
    for k in ("ML_SHIP_DB_URL",):
        local_env.pop(k, None)
        remote_env.pop(k, None)
    cmd = [ml_ship, "ship", "job.ipynb", "--max-bytes", f"{args.mb * 2}M"]
    load_before = os.getloadavg()[0]
    local: list[float] = []
    remote: list[float] = []
    try:
        timed(cmd, env=local_env, cwd=str(project))  # warm both paths (imports, the store)
        timed(cmd, env=remote_env, cwd=str(project))
        for r in range(args.runs):
            salt(project, r)
            pair = [(local, local_env), (remote, remote_env)]
            for times, env in (pair if r % 2 == 0 else pair[::-1]):
                times.append(timed(cmd, env=env, cwd=str(project)))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        load_after = os.getloadavg()[0]
        shutil.rmtree(top, ignore_errors=True)
    ratio = median(remote) / median(local)
    print(f"bench_remote: ship of a {args.mb} MB project ({args.files} files), "
          f"{args.runs} rounds")
    report([
        ("local ship (median)", f"{median(local):.2f} s  {[round(t, 2) for t in local]}"),
        ("remote ship over REST (median)",
         f"{median(remote):.2f} s  {[round(t, 2) for t in remote]}"),
        ("ratio remote / local", f"{ratio:.2f}x (target <= 1.5x) "
                                 f"{'OK' if ratio <= 1.5 else 'OVER'}"),
        ("machine load (1 min avg)", f"{load_before:.2f} before, {load_after:.2f} after, "
                                     f"{os.cpu_count()} cores"),
    ])


if __name__ == "__main__":
    main()
