"""Projects on the docker backend: the files are an image layer of their own; a run imports its
module, reads its data, and its artifacts come back (a real engine, as in test_docker.py)."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_ml_ship.core import ShipService

from .test_docker import (  # noqa: F401 - fixtures
    docker_settings,
    dsvc,
    image_of,
    job_name,
    log_of,
    run_to_end,
)
from .test_projects import SECRET, make_project


def test_a_project_runs_in_a_container_with_its_files_and_artifacts(
        dsvc: ShipService, job_name: str, tmp_path: Path) -> None:
    nb = make_project(tmp_path / "proj")
    dsvc.ship(nb, name=job_name)
    info = run_to_end(dsvc, job_name, parameters={"who": "container"})
    log = log_of(dsvc, info.id)
    assert info.status == "succeeded", log
    assert "hello container from helper v1 rows 3 double 6" in log
    files = {f.path: f.size for f in dsvc.run_files(info.id).files}
    assert files == {"summary.csv": 7, "data/train.csv": len("overwritten by the run")}
    path, _ = dsvc.run_file(info.id, "summary.csv")
    assert path.read_text() == "rows\n3\n"
    # the image holds the project but never what was left out (.env, .shipignore'd files)
    image = image_of(dsvc, job_name, 1)
    blob = b"".join(image.save(named=False))
    assert b"hello {n} from helper v1" in blob and SECRET.encode() not in blob
    assert b"left out by .shipignore" not in blob
    # the next run reads the data as shipped again (the container's copy was private)
    again = run_to_end(dsvc, job_name)
    assert "hello world from helper v1 rows 3" in log_of(dsvc, again.id)


def test_layers_a_notebook_edit_rebuilds_only_the_notebook_a_helper_edit_the_files(
        dsvc: ShipService, job_name: str, tmp_path: Path) -> None:
    nb = make_project(tmp_path / "proj")
    dsvc.ship(nb, name=job_name)
    assert run_to_end(dsvc, job_name).status == "succeeded"
    data = json.loads(nb.read_text())
    data["cells"][1]["source"] += "\nprint('notebook edit')"
    nb.write_text(json.dumps(data))
    assert dsvc.ship(nb, name=job_name).version.number == 2
    second = run_to_end(dsvc, job_name)
    log = log_of(dsvc, second.id)
    assert second.status == "succeeded" and "notebook edit" in log, log
    steps = {s.splitlines()[0]: s for s in log.split("Step ")[1:]}
    project_step = next(s for k, s in steps.items() if "COPY --chown" in k and "project/" in k)
    notebook_step = next(s for k, s in steps.items() if "COPY notebook.ipynb" in k)
    assert "Using cache" in project_step and "Using cache" not in notebook_step
    layers = [image_of(dsvc, job_name, n).attrs["RootFS"]["Layers"] for n in (1, 2)]
    assert layers[1][:-1] == layers[0][:-1] and layers[1][-1] != layers[0][-1]

    # content no earlier build on this engine has seen (its layer cache outlives the test)
    (tmp_path / "proj" / "helper.py").write_text(
        f"def greet(n):\n    return 'helper v3 of {job_name}'\n")
    assert dsvc.ship(nb, name=job_name).version.number == 3
    third = run_to_end(dsvc, job_name)
    log = log_of(dsvc, third.id)
    assert third.status == "succeeded" and "helper v3" in log, log
    steps = {s.splitlines()[0]: s for s in log.split("Step ")[1:]}
    install = [s for k, s in steps.items() if "install" in k]
    project_step = next(s for k, s in steps.items() if "COPY --chown" in k and "project/" in k)
    assert install and all("Using cache" in s for s in install)
    assert "Using cache" not in project_step


def test_a_big_project_is_an_image_of_its_own_and_a_notebook_edit_sends_only_the_notebook(
        dsvc: ShipService, job_name: str, tmp_path: Path) -> None:
    import os

    nb = make_project(tmp_path / "proj")
    (tmp_path / "proj" / "data" / "big.bin").write_bytes(os.urandom(12 * 1024 * 1024))
    dsvc.ship(nb, name=job_name)
    first = run_to_end(dsvc, job_name)
    log = log_of(dsvc, first.id)
    assert first.status == "succeeded", log
    assert f"image ml-ship/{job_name}:files-" in log  # the files image, built first
    data = json.loads(nb.read_text())
    data["cells"][1]["source"] += "\nprint('edited notebook')"
    nb.write_text(json.dumps(data))
    dsvc.ship(nb, name=job_name)
    second = run_to_end(dsvc, job_name)
    log = log_of(dsvc, second.id)
    assert second.status == "succeeded" and "edited notebook" in log, log
    assert "is up to date: nothing to build" in log  # the files image, reused
    steps = [s.splitlines()[0] for s in log.split("Step ")[1:]]
    assert steps[0].endswith(f"FROM ml-ship/{job_name}:files-" + steps[0].rsplit("files-")[1])
    assert not any("COPY --chown" in s or "install" in s for s in steps), steps
    layers = [image_of(dsvc, job_name, n).attrs["RootFS"]["Layers"] for n in (1, 2)]
    assert layers[1][:-1] == layers[0][:-1] and layers[1][-1] != layers[0][-1]
    assert "hello world from helper v1 rows 3" in log  # the project is there all the same
