"""The image plan without an engine: what goes into the image, in which order, and why."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from jupyter_ml_ship.backends._docker.context import BuildPlan
from jupyter_ml_ship.backends._docker.engine import memory_bytes
from jupyter_ml_ship.backends.docker import DockerBackend
from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.errors import BadInput

from .conftest import make_notebook

#: what the runner must never need inside an image
HEAVY = ("sqlalchemy", "alembic", "pydantic", "jupyter_server", "docker", "rich", "httpx")


def plan_for(tmp_path: Path, lock: str = "", source: str = "none", **kw: object) -> BuildPlan:
    nb = make_notebook(tmp_path / "nb.ipynb", "print(1)")
    return BuildPlan(job="j", version=3, digest="ab" * 32, base_image="base:1", lock=lock,
                     lock_source=source, notebook_file=nb, **kw)  # type: ignore[arg-type]


def steps(dockerfile: str) -> list[str]:
    return [ln for ln in dockerfile.splitlines() if ln.strip()]


def index(lines: list[str], needle: str) -> int:
    return next(i for i, ln in enumerate(lines) if needle in ln)


def test_runner_works_from_the_image_files_alone(tmp_path: Path) -> None:
    """The files copied into images run a notebook with no SQLAlchemy, pydantic, server..."""
    src = tmp_path / "image"
    for name, data in plan_for(tmp_path)._small_files().items():
        if name.startswith("src/"):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(data)
    run_dir = tmp_path / "run"
    make_notebook(run_dir / "input.ipynb", "from jupyter_ml_ship import record\n"
                  "print('hi', who)\nrecord('who', who)", params="who = 'x'")
    (run_dir / "run.json").write_text(json.dumps({"run_id": "r1", "parameters": {"who": "img"},
                                                  "kernel_name": "python3"}))
    code = (f"import sys\nfor m in {HEAVY!r}: sys.modules[m] = None\n"
            f"import jupyter_ml_ship\nassert jupyter_ml_ship.__file__.startswith({str(src)!r})\n"
            f"from jupyter_ml_ship.runner.__main__ import main\nsys.exit(main([{str(run_dir)!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(src / "src"), "PATH": "/usr/bin"},
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "hi img" in proc.stdout
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "succeeded" and result["outputs"] == {"who": "img"}


def test_a_broken_runtime_is_a_failed_run_not_a_success(tmp_path: Path) -> None:
    """An image whose papermill cannot import (a dependency missing) must not report success."""
    run_dir = tmp_path / "run"
    make_notebook(run_dir / "input.ipynb", "print('hi')")
    (run_dir / "run.json").write_text(json.dumps({"run_id": "r1", "kernel_name": "python3"}))
    code = ("import sys\nsys.modules['yaml'] = None  # papermill needs it\n"
            f"from jupyter_ml_ship.runner.__main__ import main\nsys.exit(main([{str(run_dir)!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "failed" and "yaml" in result["error"]["message"]


def test_layers_go_from_rarely_to_often_changing(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "pandas==2.2.3\n", "requirements.txt", ca_bundle="/x.pem")
    lines = steps(plan.dockerfile({"ml-ship.version": "3"}))
    order = [index(lines, k) for k in ("FROM base:1", "COPY ca.crt", "runtime.txt", "lock.txt",
                                       "COPY src/", "COPY notebook.ipynb")]
    assert order == sorted(order)
    # after the notebook only metadata follows: a notebook edit makes one new layer
    assert all(ln.startswith("LABEL") for ln in lines[order[-1] + 1:])
    assert plan.installs_lock


def test_a_frozen_kernel_environment_is_not_installed(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "jupyterlab==4.6.0\npytest==8.3.0\n", "frozen")
    assert not plan.installs_lock
    assert "lock.txt" not in plan.dockerfile() and "lock.txt" not in plan._small_files()
    assert "runtime only (lock frozen" in plan.describe()


def test_offline_installs_in_a_build_stage_without_network(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "a-1.0-py3-none-any.whl").write_bytes(b"PK")
    plan = plan_for(tmp_path, "a==1.0\n", "metadata", wheelhouse=str(wheels))
    text = plan.dockerfile()
    build, final = text.split("FROM system AS build")[1].split("\nFROM system\n")
    assert "--no-index --find-links" in build and "COPY wheels/" in build
    assert "wheels" not in final and "COPY --from=build /opt/ml-ship" in final
    assert "wheels/a-1.0-py3-none-any.whl" in plan._big_files()


def test_build_key_follows_every_input(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    key = plan.build_key()
    assert replace(plan).build_key() == key
    assert replace(plan, lock="six\n", lock_source="metadata").build_key() != key
    assert replace(plan, base_image="base:2").build_key() != key
    make_notebook(tmp_path / "nb2.ipynb", "print(2)")
    assert replace(plan, notebook_file=tmp_path / "nb2.ipynb").build_key() != key


def test_memory_sizes() -> None:
    assert memory_bytes("200m") == 200 * 2**20
    assert memory_bytes("1.5Gi") == int(1.5 * 2**30)
    assert memory_bytes("2GB") == 2 * 2**30
    assert memory_bytes("1048576") == 2**20
    assert memory_bytes(None) == 0
    with pytest.raises(ValueError):
        memory_bytes("lots")


def test_unusable_settings_are_bad_input(tmp_path: Path) -> None:
    (tmp_path / "not-a-cert.pem").write_text("hello")
    nb = make_notebook(tmp_path / "nb.ipynb", "print(1)")
    bad_ca = DockerBackend(MlShip(home=str(tmp_path), ca_bundle=str(tmp_path / "not-a-cert.pem"),
                                  docker_host="unix:///nonexistent.sock"))
    with pytest.raises(BadInput, match="no PEM certificate"):
        bad_ca.plan("j", 1, "ab" * 32, "", "none", nb)
    no_dir = DockerBackend(MlShip(home=str(tmp_path), wheelhouse=str(tmp_path / "nowhere"),
                                  docker_host="unix:///nonexistent.sock"))
    with pytest.raises(BadInput, match="not a directory"):
        no_dir.plan("j", 1, "ab" * 32, "", "none", nb)
