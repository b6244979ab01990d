"""An environment per version on the local backend, made with uv.

A version that declares requirements (``requirements.txt`` beside the notebook, a file or a list
in ``metadata.ml_ship.requirements``: its *lock*) runs its kernel in a virtual environment of
its own, ``<home>/envs/<sha256 of the lock>``: shared by every version that pins the same lock,
so rolling back to an older version brings its dependencies back too. The runner itself stays in
the server's environment; only the kernel runs in the version's (a ``python3`` kernelspec in the
environment points at its interpreter, and ``jupyter_ml_ship`` is importable there for
``record()`` through a ``.pth`` to a folder holding only this package).

The environment has the lock and ``ipykernel``, installed by ``uv pip install`` (from the
package index, or with ``c.MlShip.wheelhouse`` only from that folder: ``--no-index
--find-links``, as the docker backend's images). It is built once: concurrent first runs wait on
a file lock; it is built in a temporary folder (``uv venv --relocatable``) and renamed into
place with its marker file, so a half-built environment is never used. A version with no
requirements (or a lock frozen from the server's own packages) keeps the server's environment.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ._docker.context import find_uv

#: written last, inside the environment: its presence means the environment is complete
MARKER = "ml-ship-env.json"
#: what the kernel needs besides the version's lock
KERNEL_REQUIREMENTS = ("ipykernel",)
#: the environment's Jupyter data folder (its kernelspec), first on the runner's JUPYTER_PATH
JUPYTER_DIR = "ml-ship-jupyter"
#: the runner's environment variables naming the version's environment
PYTHON_VAR = "ML_SHIP_KERNEL_PYTHON"


def pins_requirements(lock: str, source: str) -> bool:
    """Whether a version's lock is its own (declared), not a freeze of the server's packages."""
    return bool(lock.strip()) and source not in ("frozen", "none")


def env_digest(lock: str) -> str:
    return hashlib.sha256(lock.encode()).hexdigest()


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


def ensure_env(home: Path, lock: str, wheelhouse: str = "",
               log: Callable[[str], None] = print) -> Path:
    """The environment of ``lock`` under ``home``, built now unless it is there already."""
    digest = env_digest(lock)
    envs = home / "envs"
    final = envs / digest
    if (final / MARKER).is_file():
        log(f"environment {digest[:12]}: reused ({final})")
        return final
    envs.mkdir(parents=True, exist_ok=True)
    with open(envs / f".{digest}.lock", "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # concurrent first runs: one builds, the others wait
        if (final / MARKER).is_file():
            log(f"environment {digest[:12]}: reused, built meanwhile by another run ({final})")
            return final
        tmp = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=envs))
        try:
            _build(tmp, final, lock, wheelhouse, log)
            if final.exists():  # a leftover without its marker: never used, replaced
                shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def _run(argv: list[str], log: Callable[[str], None], what: str) -> None:
    env = {**os.environ, "NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800)
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.strip():
            log(f"  {line}")
    if proc.returncode != 0:
        raise BadInput(f"the version's environment could not be made ({what} exited with "
                       f"status {proc.returncode}; the run's log has uv's output)")


def _build(tmp: Path, final: Path, lock: str, wheelhouse: str,
           log: Callable[[str], None]) -> None:
    uv = find_uv()
    if uv is None:
        raise BadInput("the version pins requirements but uv is not installed "
                       "(pip install uv): the local backend makes its environment with uv")
    started = time.monotonic()
    where = "offline from the wheelhouse" if wheelhouse else "from the package index"
    log(f"environment {final.name[:12]}: making it with uv ({where}) in {final}")
    _run([uv, "venv", "--quiet", "--relocatable", "--python", sys.executable, str(tmp)], log,
         "uv venv")
    (tmp / "requirements.lock.txt").write_text(lock)
    offline = ["--no-index", "--find-links", str(Path(wheelhouse).expanduser())] \
        if wheelhouse else []
    _run([uv, "pip", "install", "--compile-bytecode", "--python", str(env_python(tmp)), *offline,
          "-r", str(tmp / "requirements.lock.txt"), *KERNEL_REQUIREMENTS], log, "uv pip install")
    # record() in the kernel: this package only (not the server's site-packages) on its path
    lib = tmp / "ml-ship-lib"
    lib.mkdir()
    (lib / "jupyter_ml_ship").symlink_to(Path(__file__).resolve().parents[1])
    site = next((tmp / "lib").glob("python*/site-packages"))
    (site / "_ml_ship_runtime.pth").write_text(os.path.relpath(lib, site) + "\n")
    # a kernelspec of our own, beside the installed files: uv hardlinks those from its cache
    # (ipykernel's share/jupyter/kernels/python3/kernel.json is the cache's and other envs' file)
    spec_dir = tmp / JUPYTER_DIR / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(env_python(final)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python 3 (ml-ship env {final.name[:12]})", "language": "python"}))
    marker: dict[str, Any] = {"digest": final.name, "lock": lock, "offline": bool(wheelhouse),
                              "python": sys.version.split()[0],
                              "seconds": round(time.monotonic() - started, 2)}
    (tmp / MARKER).write_text(json.dumps(marker, indent=1))
    log(f"environment {final.name[:12]}: made in {marker['seconds']:.1f} s")


def run_env_vars(env: Path) -> dict[str, str]:
    """What the runner's process needs to start the kernel in ``env``."""
    jupyter = str(env / JUPYTER_DIR)
    rest = os.environ.get("JUPYTER_PATH")
    return {PYTHON_VAR: str(env_python(env)),
            "JUPYTER_PATH": f"{jupyter}{os.pathsep}{rest}" if rest else jupyter}
