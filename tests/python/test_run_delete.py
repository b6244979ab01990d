"""Deleting a run (core, CLI, REST) and reading a version's stored notebook (REST).

Real kernels on the local backend, a real Jupyter server for the routes (``jp_fetch``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_ml_ship.core.access import Actor
from jupyter_ml_ship.errors import Conflict, Forbidden, NotFound

from .conftest import make_notebook
from .test_server import (  # noqa: F401 - fixtures
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
    ml_home,
    wait_run,
)

ADA = Actor.of("ada")
GRACE = Actor.of("grace")


def test_a_deleted_run_is_gone_with_its_files_and_the_rest_stays(svc, nb):
    svc.ship(nb("train.ipynb", "from jupyter_ml_ship import record\nrecord('n', 1)"))
    keep = svc.wait(svc.run("train").id, 120)
    gone = svc.wait(svc.run("train").id, 120)
    assert keep.status == gone.status == "succeeded"
    gone_dir = svc.home / "runs" / gone.id
    assert (gone_dir / "log.txt").exists() and (gone_dir / "output.ipynb").exists()

    svc.delete_run(gone.id)

    assert not gone_dir.exists()
    assert [r.id for r in svc.runs(job="train")[0]] == [keep.id]
    with pytest.raises(NotFound, match=f"no run with id '{gone.id}'"):
        svc.get_run(gone.id)
    with pytest.raises(NotFound):
        svc.delete_run(gone.id)
    # the job, its version and the other run (files included) are untouched
    assert svc.job("train").last_run.id == keep.id
    assert [v.number for v in svc.versions("train")] == [1]
    assert svc.output_path(keep.id).exists() and svc.read_log(keep.id)[0]
    assert svc.audit_trail("train", kinds=("delete-run",)).events[0].data["run_id"] == gone.id


def test_an_active_run_is_refused_until_cancelled(svc, nb):
    svc.ship(nb("slow.ipynb", "import time\nprint('sleeping', flush=True)\ntime.sleep(120)"))
    run = svc.run("slow")
    with pytest.raises(Conflict, match=f"run {run.id} is (queued|running): cancel it first"):
        svc.delete_run(run.id)
    assert (svc.home / "runs" / run.id).is_dir()
    svc.cancel(run.id)
    svc.delete_run(run.id)
    assert svc.runs(job="slow")[0] == []


def test_team_mode_needs_the_delete_permission(svc, nb):
    svc.ship(nb("churn.ipynb", "1"), actor=ADA)
    run = svc.wait(svc.run("churn", actor=ADA).id, 120)
    with pytest.raises(Forbidden, match="grace may not delete job churn"):
        svc.delete_run(run.id, actor=GRACE)
    assert svc.get_run(run.id).status == "succeeded"
    svc.delete_run(run.id, actor=ADA)
    event = svc.audit_trail("churn", kinds=("delete-run",)).events[0]
    assert event.actor == "ada" and event.data["run_id"] == run.id


def test_a_forged_run_folder_outside_the_home_is_not_removed(svc, nb, tmp_path):
    from jupyter_ml_ship.store import Run

    svc.ship(nb("x.ipynb", "1"))
    run = svc.wait(svc.run("x").id, 120)
    outside = tmp_path / "precious" / run.id
    outside.mkdir(parents=True)
    (outside / "keep.txt").write_text("mine")
    with svc.store.session() as s:
        s.get(Run, run.id).run_dir = str(outside)
    svc.delete_run(run.id)
    assert (outside / "keep.txt").read_text() == "mine"
    assert svc.runs(job="x")[0] == []


def test_cli_delete_run(svc, nb, cli_env):
    svc.ship(nb("c.ipynb", "1"))
    run = svc.wait(svc.run("c").id, 120)
    cli = [sys.executable, "-m", "jupyter_ml_ship"]
    done = subprocess.run([*cli, "delete-run", run.id], env=cli_env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"deleted run {run.id}" in done.stderr
    again = subprocess.run([*cli, "delete-run", run.id], env=cli_env, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 2 and f"no run with id '{run.id}'" in again.stderr


# ---- REST -----------------------------------------------------------------------------------


async def test_rest_delete_run(api: Api, jp_root_dir: Path, ml_home: Path) -> None:  # noqa: F811
    make_notebook(jp_root_dir / "slow.ipynb", "import time\nprint('sleeping', flush=True)\n"
                  "time.sleep(120)")
    make_notebook(jp_root_dir / "quick.ipynb", "print('hi')")
    done = js(await api("POST", "ship", body={"path": "quick.ipynb", "run": True},
                        expect=201))["run"]
    done = await wait_run(api, done["id"])
    active = js(await api("POST", "ship", body={"path": "slow.ipynb", "run": True},
                          expect=201))["run"]
    code, msg = error_of(await api("DELETE", "runs", active["id"], expect=409))
    assert code == "conflict" and "cancel it first" in msg
    r = await api("DELETE", "runs", done["id"], headers={"Authorization": ""}, expect=403)
    assert error_of(r)[0] == "forbidden"
    assert js(await api("GET", "runs", done["id"]))["status"] == "succeeded"
    r = await api("DELETE", "runs", done["id"], expect=204)
    assert r.body == b""
    error_of(await api("GET", "runs", done["id"], expect=404))
    code, msg = error_of(await api("DELETE", "runs", done["id"], expect=404))
    assert done["id"] in msg
    listed = [x["id"] for x in js(await api("GET", "runs"))["runs"]]
    assert done["id"] not in listed and active["id"] in listed
    assert not (ml_home / "runs" / done["id"]).exists()
    assert js(await api("GET", "jobs", "quick"))["latest_version"] == 1
    await api("POST", "runs", active["id"], "cancel")


async def test_rest_version_notebook(api: Api, jp_root_dir: Path) -> None:  # noqa: F811
    nb = make_notebook(jp_root_dir / "two.ipynb", "print('first version')")
    await api("POST", "ship", body={"path": "two.ipynb"}, expect=201)
    make_notebook(nb, "print('second version')")
    await api("POST", "ship", body={"path": "two.ipynb"}, expect=201)
    r = await api("GET", "jobs", "two", "versions", "1", "notebook")
    assert r.headers["Content-Type"].startswith("application/json")
    v1 = json.loads(r.body)
    assert v1["nbformat"] == 4
    sources = ["".join(c["source"]) for c in v1["cells"]]
    assert "print('first version')" in sources and "print('second version')" not in sources
    v2 = js(await api("GET", "jobs", "two", "versions", "2", "notebook"))
    assert "print('second version')" in ["".join(c["source"]) for c in v2["cells"]]
    code, msg = error_of(await api("GET", "jobs", "two", "versions", "3", "notebook",
                                   expect=404))
    assert code == "not_found" and "job 'two' has no version 3 (versions 1 to 2)" in msg
    code, msg = error_of(await api("GET", "jobs", "nope", "versions", "1", "notebook",
                                   expect=404))
    assert "no job named 'nope'" in msg
    code, msg = error_of(await api("GET", "jobs", "two", "versions", "x", "notebook",
                                   expect=400))
    assert "version must be an integer" in msg
    r = await api("GET", "jobs", "two", "versions", "1", "notebook",
                  headers={"Authorization": ""}, expect=403)
    assert error_of(r)[0] == "forbidden"
