"""An environment per version on the local backend: a version's requirements become a uv
virtual environment under the home, keyed by its lock, that its kernel runs in; versions pinning
the same lock share it; a version without requirements runs in the server's environment."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jupyter_ml_ship.backends._docker.context import find_uv
from jupyter_ml_ship.backends.local_env import MARKER, env_digest

from .conftest import make_notebook, require

TIMEOUT = 240


def tiny_wheel(folder: Path, name: str, version: str) -> None:
    """A pure-Python wheel of one module ``name`` whose ``VERSION`` is ``version`` (made here,
    offline: a zip with the dist-info files a wheel needs)."""
    dist = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as whl:
        files = {
            f"{name}.py": f"VERSION = {version!r}\n",
            f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
            f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                             "Tag: py3-none-any\n",
        }
        files[f"{dist}/RECORD"] = "".join(f"{p},,\n" for p in files) + f"{dist}/RECORD,,\n"
        for path, text in files.items():
            whl.writestr(path, text)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    """ipykernel and its dependencies (what every version's environment has) and two versions
    of a tiny package; installs from it are offline (``--no-index``)."""
    require("uv", find_uv() is not None, "uv is not installed")
    folder = tmp_path_factory.mktemp("wheels")
    made = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(folder),
                           "ipykernel"], capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    tiny_wheel(folder, "mlshiptiny", "1.0")
    tiny_wheel(folder, "mlshiptiny", "2.0")
    return folder


CODE = ("import sys, mlshiptiny\nfrom jupyter_ml_ship import record\n"
        "record('tiny', mlshiptiny.VERSION)\nrecord('prefix', sys.prefix)")


def test_each_version_runs_with_its_own_pinned_packages(settings, tmp_path, wheelhouse):
    from jupyter_ml_ship.core.service import ShipService

    settings.wheelhouse = str(wheelhouse)
    settings.freeze_environment = False
    svc = ShipService(settings)
    # uv hardlinks installed files from its cache: the server's own kernelspec must stay as is
    server_spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    server_spec_text = server_spec.read_text() if server_spec.is_file() else None
    try:
        work = tmp_path / "work"
        make_notebook(work / "tiny.ipynb", CODE)
        (work / "requirements.txt").write_text("mlshiptiny==1.0\n")
        svc.ship(work / "tiny.ipynb")
        first = svc.wait(svc.run("tiny").id, TIMEOUT)
        assert first.status == "succeeded", svc.read_log(first.id)[0].decode()[-3000:]
        env1 = settings.home_path / "envs" / env_digest("mlshiptiny==1.0\n")
        assert first.outputs == {"tiny": "1.0", "prefix": str(env1)}
        log1 = svc.read_log(first.id)[0].decode()
        assert "making it with uv (offline from the wheelhouse)" in log1
        assert json.loads((env1 / MARKER).read_text())["offline"] is True

        (work / "requirements.txt").write_text("mlshiptiny==2.0\n")
        svc.ship(work / "tiny.ipynb")
        second = svc.wait(svc.run("tiny").id, TIMEOUT)
        assert second.status == "succeeded", svc.read_log(second.id)[0].decode()[-3000:]
        assert second.outputs["tiny"] == "2.0"

        # rolling back to version 1: its environment again, reused (not made a second time)
        again = svc.wait(svc.run("tiny", version=1).id, TIMEOUT)
        assert again.status == "succeeded" and again.outputs == first.outputs
        log3 = svc.read_log(again.id)[0].decode()
        assert "reused" in log3 and "making it" not in log3
        assert sorted(p.name for p in (settings.home_path / "envs").iterdir()
                      if not p.name.startswith(".")) == sorted(
            [env1.name, env_digest("mlshiptiny==2.0\n")])

        # no requirements: the server's environment, and the log says so
        make_notebook(work / "plain" / "plain.ipynb",
                      "import sys\nfrom jupyter_ml_ship import record\n"
                      "record('prefix', sys.prefix)")
        svc.ship(work / "plain" / "plain.ipynb")
        plain = svc.wait(svc.run("plain").id, TIMEOUT)
        assert plain.status == "succeeded"
        assert plain.outputs["prefix"] == sys.prefix
        assert "environment: the server's" in svc.read_log(plain.id)[0].decode()
        assert (server_spec.read_text() if server_spec.is_file() else None) == server_spec_text
    finally:
        svc.close()
