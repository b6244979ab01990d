"""The docker backend against a real engine: images per version, runs in containers.

Needs a Docker engine and the base image (``scripts/docker-up.sh``); skipped without them on a
laptop, a failure when ``ML_SHIP_REQUIRE`` names ``docker`` (CI).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.backends.docker import DockerBackend
from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.errors import BadInput

from .conftest import EXAMPLES, require
from .waits import until

BASE_IMAGE = os.environ.get("ML_SHIP_DOCKER_BASE_IMAGE") or "ml-ship/base:bookworm"


def host_ca_bundle() -> str:
    """The CA bundle builds need behind this machine's TLS-intercepting proxy (if any)."""
    if os.environ.get("ML_SHIP_CA_BUNDLE"):
        return os.environ["ML_SHIP_CA_BUNDLE"]
    local = Path("/usr/local/share/ca-certificates")
    return str(local) if any(local.glob("*.crt")) else ""


def docker_settings_for(home: Path, **kw: Any) -> MlShip:
    values: dict[str, Any] = dict(home=str(home), freeze_environment=False,
                                  docker_base_image=BASE_IMAGE, ca_bundle=host_ca_bundle(),
                                  wheelhouse="")
    values.update(kw)
    return MlShip(**values)


@pytest.fixture
def docker_settings(home: Path) -> MlShip:
    settings = docker_settings_for(home)
    ok, why = DockerBackend(settings).available()
    require("docker", ok, why)
    return settings


@pytest.fixture
def job_name(request: pytest.FixtureRequest) -> str:
    """A job name of its own per test, so images of parallel sessions never collide."""
    stem = request.node.name.removeprefix("test_").replace("_", "-")[:30].strip("-")
    return f"dk-{stem}-{secrets.token_hex(3)}"


@pytest.fixture
def dsvc(docker_settings: MlShip, job_name: str) -> Iterator[ShipService]:
    service = ShipService(docker_settings)
    yield service
    for run_id in service.active_run_ids():
        try:
            service.cancel(run_id)
        except Exception:
            pass
    client = service.backend("docker").client()
    deadline = time.monotonic() + 30
    while client.containers.list(all=True, sparse=True,
                                 filters={"label": f"ml-ship.job={job_name}"}):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for image in client.images.list(filters={"label": f"ml-ship.job={job_name}"}):
        for tag in image.tags:  # noprune: keep the cached dependency layers for other tests
            client.images.remove(tag, force=True, noprune=True)
    service.close()


def run_to_end(svc: ShipService, job: str, timeout: float = 600, **kw: Any) -> Any:
    info = svc.run(job, backend="docker", **kw)
    return svc.wait(info.id, timeout=timeout)


def log_of(svc: ShipService, run_id: str) -> str:
    return svc.read_log(run_id, 0, 1 << 24)[0].decode()


def containers_of(svc: ShipService, run_id: str) -> list[Any]:
    client = svc.backend("docker").client()
    return client.containers.list(all=True, sparse=True,
                                  filters={"label": f"ml-ship.run={run_id}"})


def image_of(svc: ShipService, job: str, version: int) -> Any:
    images = svc.backend("docker").images(job)
    found = [i for i in images if i["version"] == version]
    assert found, f"no image for {job} v{version}: {images}"
    return svc.backend("docker").client().images.get(found[0]["image"])




def gone(svc: ShipService, run_id: str) -> None:
    """The run's container is removed (right after the result is written)."""
    until(lambda: containers_of(svc, run_id) == [], 30, f"the container of {run_id} to go")


def edit_markdown(src: Path, dst: Path, text: str) -> Path:
    nb = json.loads(src.read_text())
    nb["cells"][0]["source"] = [text]
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb))
    return dst


# ---- build and run ---------------------------------------------------------------------------


def test_example_runs_in_a_container_with_parameters(dsvc: ShipService, job_name: str) -> None:
    shipped = dsvc.ship(EXAMPLES / "hello.ipynb", name=job_name)
    info = run_to_end(dsvc, job_name, parameters={"name": "container", "times": 2})
    log = log_of(dsvc, info.id)
    assert info.status == "succeeded", log
    assert log.count("hello, container!") == 2
    assert info.outputs == {"greeted": "container"}
    output = json.loads(dsvc.output_path(info.id).read_text())
    injected = [c for c in output["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and 'name = "container"' in "".join(injected[0]["source"])
    tag = f"ml-ship/{job_name}:v1-{shipped.version.digest[:12]}"
    assert f"container ml-ship-run-{info.id} started from {tag}" in log
    image = dsvc.backend("docker").client().images.get(tag)
    assert image.labels["ml-ship.job"] == job_name
    assert image.labels["ml-ship.version"] == "1"
    assert image.labels["ml-ship.digest"] == shipped.version.digest
    assert "ml-ship.lock" in image.labels
    gone(dsvc, info.id)  # removed after the run


def test_a_file_one_step_records_opens_in_the_next_container(dsvc: ShipService) -> None:
    """prepare writes a CSV and records its path; train (another container) reads it."""
    dsvc.ship(EXAMPLES / "prepare.ipynb")
    dsvc.ship(EXAMPLES / "train.ipynb")
    try:
        prepared = run_to_end(dsvc, "prepare", parameters={"rows": 321})
        assert prepared.status == "succeeded", log_of(dsvc, prepared.id)
        data_path = prepared.outputs["data_path"]
        assert Path(data_path).is_file()  # the same path on the host
        trained = run_to_end(dsvc, "train", parameters={"data_path": data_path, "epochs": 5})
        assert trained.status == "succeeded", log_of(dsvc, trained.id)
        assert "training on 321 customers" in log_of(dsvc, trained.id)
    finally:
        client = dsvc.backend("docker").client()
        for job in ("prepare", "train"):
            for image in client.images.list(filters={"label": f"ml-ship.job={job}"}):
                if image.labels.get("ml-ship.digest") in {v.digest for v in dsvc.versions(job)}:
                    for tag in image.tags:
                        client.images.remove(tag, force=True, noprune=True)


def test_markdown_edit_reuses_dependency_layers_and_images_cli(
        dsvc: ShipService, job_name: str, tmp_path: Path, cli_env: dict[str, str]) -> None:
    nb = edit_markdown(EXAMPLES / "hello.ipynb", tmp_path / "nb" / "hello.ipynb",
                       f"# first {job_name}")  # a notebook no earlier build has seen
    dsvc.ship(nb, name=job_name)
    first = run_to_end(dsvc, job_name)
    assert first.status == "succeeded", log_of(dsvc, first.id)
    edit_markdown(nb, nb, f"# second {job_name}: only this markdown changed")
    assert dsvc.ship(nb, name=job_name).version.number == 2
    second = run_to_end(dsvc, job_name)
    log = log_of(dsvc, second.id)
    assert second.status == "succeeded", log
    # every step up to the notebook comes from the cache; the install did not run again
    steps = log.split("Step ")[1:]
    install = [s for s in steps if "pip install" in s.splitlines()[0]]
    assert install and all("Using cache" in s for s in install), log
    notebook_step = [s for s in steps if "COPY notebook.ipynb" in s.splitlines()[0]]
    assert notebook_step and "Using cache" not in notebook_step[0]
    assert "Resolved" not in log and "Downloading" not in log
    layers1 = image_of(dsvc, job_name, 1).attrs["RootFS"]["Layers"]
    layers2 = image_of(dsvc, job_name, 2).attrs["RootFS"]["Layers"]
    assert layers2[:-1] == layers1[:-1] and layers2[-1] != layers1[-1]

    # ml-ship images / images prune keep the current version's image
    env = {**cli_env, "ML_SHIP_DOCKER_BASE_IMAGE": BASE_IMAGE}
    cli = [sys.executable, "-m", "jupyter_ml_ship"]
    listed = subprocess.run([*cli, "images", job_name, "--json"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    images = json.loads(listed.stdout)["images"]
    assert [(i["version"], i["current"]) for i in images] == [(2, True), (1, False)]
    table = subprocess.run([*cli, "images", job_name], env=env, capture_output=True, text=True,
                           timeout=60)
    assert f"ml-ship/{job_name}:v2-" in table.stdout and "VERSION" in table.stdout
    pruned = subprocess.run([*cli, "images", "prune", job_name], env=env, capture_output=True,
                            text=True, timeout=60)
    assert pruned.returncode == 0, pruned.stderr
    assert f"removed ml-ship/{job_name}:v1-" in pruned.stdout
    assert [i["version"] for i in dsvc.backend("docker").images(job_name)] == [2]
    again = run_to_end(dsvc, job_name)  # the kept image still runs, with nothing to build
    assert again.status == "succeeded"
    assert "is up to date: nothing to build" in log_of(dsvc, again.id)


def test_unchanged_reship_builds_nothing(dsvc: ShipService, job_name: str) -> None:
    dsvc.ship(EXAMPLES / "hello.ipynb", name=job_name)
    first = run_to_end(dsvc, job_name)
    assert first.status == "succeeded", log_of(dsvc, first.id)
    image_id = image_of(dsvc, job_name, 1).id
    again = dsvc.ship(EXAMPLES / "hello.ipynb", name=job_name)
    assert not again.created and again.version.number == 1
    second = run_to_end(dsvc, job_name, parameters={"name": "again"})
    log = log_of(dsvc, second.id)
    assert second.status == "succeeded", log
    assert "is up to date: nothing to build" in log
    assert "Step 1/" not in log and "hello, again!" in log
    assert image_of(dsvc, job_name, 1).id == image_id


def test_secrets_reach_the_container_but_no_image_log_or_store(
        dsvc: ShipService, job_name: str, nb: Any, monkeypatch: pytest.MonkeyPatch,
        home: Path) -> None:
    value = f"s3cr3t-{secrets.token_hex(8)}"
    monkeypatch.setenv("ML_SHIP_TEST_TOKEN", value)
    path = nb("secret.ipynb",
              "import os, hashlib\nfrom jupyter_ml_ship import record\n"
              "record('token_sha', hashlib.sha256(os.environ['ML_SHIP_TEST_TOKEN'].encode())"
              ".hexdigest())\nprint('plain is', os.environ['PLAIN'])\n"
              "print('printed anyway:', os.environ['ML_SHIP_TEST_TOKEN'])",
              metadata={"ml_ship": {"secrets": ["ML_SHIP_TEST_TOKEN"], "env": {"PLAIN": "p1"}}})
    dsvc.ship(path, name=job_name)
    info = run_to_end(dsvc, job_name)
    log = log_of(dsvc, info.id)
    assert info.status == "succeeded", log
    import hashlib

    assert info.outputs["token_sha"] == hashlib.sha256(value.encode()).hexdigest()
    assert "plain is p1" in log
    assert "printed anyway: ***" in log  # masked by the runner in the container
    client = dsvc.backend("docker").client()
    image = image_of(dsvc, job_name, 1)
    history = json.dumps(client.api.history(image.id))
    assert value not in history and value not in json.dumps(image.attrs)
    for f in home.rglob("*"):  # log, output notebook, run.json, docker.json, the database...
        if f.is_file():
            assert value.encode() not in f.read_bytes(), f"secret found in {f}"


def test_missing_requirement_fails_the_build_and_the_local_run_says_why(
        dsvc: ShipService, job_name: str, nb: Any) -> None:
    path = nb("needs.ipynb", "print('ran without the package')", params="x = 1",
              metadata={"ml_ship": {"requirements": ["ml-ship-no-such-package-qz==1.0"]}})
    dsvc.ship(path, name=job_name)
    info = run_to_end(dsvc, job_name)
    log = log_of(dsvc, info.id)
    assert info.status == "failed", log
    assert info.error.ename == "BuildFailed"
    assert "ml-ship-no-such-package-qz" in info.error.message
    # the installer's own explanation is in the log
    assert ("not found in the package registry" in log or "No matching distribution" in log), log
    gone(dsvc, info.id)
    # the local backend runs a version in its own environment too (an environment per version):
    # the same missing package fails there, refused at start with uv's explanation in the log,
    # and the run is recorded as failed, not lost
    with pytest.raises(BadInput, match="the version's environment could not be made"):
        dsvc.run(job_name, backend="local", parameters={"x": 2})
    local = dsvc.runs(job=job_name, limit=1)[0][0]
    assert local.id != info.id and local.backend == "local" and local.status == "failed"
    assert "could not be made" in local.error.message
    assert "ml-ship-no-such-package-qz" in log_of(dsvc, local.id)


def test_offline_build_from_a_wheelhouse(home: Path, job_name: str, tmp_path: Path) -> None:
    from jupyter_ml_ship.backends._docker.context import runtime_requirements

    wheels = tmp_path / "wheels"
    reqs = tmp_path / "runtime.txt"
    reqs.write_text(runtime_requirements())
    made = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheels),
                           "-r", str(reqs)], capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    settings = docker_settings_for(home, wheelhouse=str(wheels))
    ok, why = DockerBackend(settings).available()
    require("docker", ok, why)
    svc = ShipService(settings)
    try:
        svc.ship(EXAMPLES / "hello.ipynb", name=job_name)
        info = run_to_end(svc, job_name, parameters={"name": "offline"})
        log = log_of(svc, info.id)
        assert info.status == "succeeded", log
        assert "offline from the wheelhouse" in log and "hello, offline!" in log
        assert "--no-index --find-links" in log
        client = svc.backend("docker").client()
        image = image_of(svc, job_name, 1)
        probe = client.containers.run(image.id, ["sh", "-c", "ls /opt/ml-ship-build/wheels "
                                                 "2>&1 | head -1; papermill --version"],
                                      remove=True, network_mode="none").decode()
        assert "No such file" in probe  # the wheels stayed in the build stage
        assert "papermill/cli.py" in probe  # the runtime is in the final image
        for tag in image.tags:
            client.images.remove(tag, force=True, noprune=True)
    finally:
        svc.close()
