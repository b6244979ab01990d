"""Schedules on the local backend: a job's ``metadata.ml_ship.schedule`` and a pipeline's
``schedule:`` start runs when a tick comes (one per tick, across processes), through the service
the Jupyter server calls, the CLI and the REST API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.errors import BadInput

from .conftest import make_notebook
from .test_server import (  # noqa: F401  (fixtures)
    Api,
    api,
    authorizer_class,
    js,
    ml_home,
)

EVERY_5 = {"ml_ship": {"schedule": "*/5  * * * *"}}  # spaces as a hand would write them


@pytest.fixture
def jp_server_config(ml_home: Path, authorizer_class: type | None) -> dict[str, Any]:  # noqa: F811
    """test_server's, looking for due schedules every second."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_ml_ship": True}},
        "MlShip": {"home": str(ml_home), "freeze_environment": False, "reconcile_interval": 200,
                   "schedule_interval": 1},
    }


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 26, hh, mm, 30, tzinfo=timezone.utc)


def test_a_bad_schedule_is_refused_when_shipping_with_where_and_what(svc, nb):
    for bad in ("every morning", "61 * * * *", "* * * *"):
        path = nb("bad.ipynb", "print(1)", metadata={"ml_ship": {"schedule": bad}})
        with pytest.raises(BadInput, match=r"bad.ipynb.*metadata.ml_ship.schedule: .* is not a "
                                           r"schedule: write a cron expression"):
            svc.ship(path)
    path = nb("bad.ipynb", "print(1)", metadata={"ml_ship": {"schedule": 5}})
    with pytest.raises(BadInput, match=r"metadata.ml_ship.schedule: Input should be a valid str"):
        svc.ship(path)
    assert svc.jobs() == []
    daily = nb("daily.ipynb", "print(1)", metadata={"ml_ship": {"schedule": "@daily"}})
    assert svc.ship(daily).version.config["schedule"] == "@daily"


def test_a_job_runs_once_per_tick_from_the_first_tick_after_it_was_shipped(svc, nb, settings):
    svc.ship(nb("tick.ipynb", "print(f'tick for {who}')", params="who = 'cron'",
                metadata=EVERY_5))
    assert svc.fire_schedules(at(10, 2)) == []  # first seen: counts from here, runs nothing
    assert svc.fire_schedules(at(10, 4)) == []  # still the 10:00 tick
    fired = svc.fire_schedules(at(10, 6))  # 10:05 came
    assert [(s.kind, s.name, s.version) for s, _ in fired] == [("job", "tick", 1)]
    run = svc.wait(fired[0][1], 120)
    assert run.status == "succeeded", run.error
    assert "tick for cron" in svc.read_log(run.id)[0].decode()
    assert svc.fire_schedules(at(10, 9)) == []
    # a second process (another server, `ml-ship schedules fire` from cron) at the same moment
    other = ShipService(settings)
    try:
        both = svc.fire_schedules(at(10, 31)) + other.fire_schedules(at(10, 31))
    finally:
        other.close()
    assert len(both) == 1  # ticks missed since 10:05: one run, not five, and only once
    assert svc.wait(both[0][1], 120).status == "succeeded"
    [listed] = svc.schedules()
    assert listed.schedule == "*/5 * * * *" and listed.runner == "ml-ship"
    assert listed.last_fired == at(10, 31)
    assert len(svc.runs("tick")[0]) == 2
    # the claims of fired ticks do not pile up: those past two days go with the next one
    claims = svc.home / "schedules" / "fired"
    stale = claims / "from-two-days-ago"
    stale.touch()
    os.utime(stale, (1, 1))
    assert len(svc.fire_schedules(at(10, 36))) == 1
    assert not stale.exists() and len(list(claims.iterdir())) == 3


def test_a_new_version_counts_from_when_it_was_shipped(svc, nb):
    path = nb("v.ipynb", "print('v1')", metadata=EVERY_5)
    svc.ship(path)
    svc.fire_schedules(at(10, 2))
    make_notebook(path, "print('v2')", metadata=EVERY_5)
    assert svc.ship(path).version.number == 2
    assert svc.fire_schedules(at(10, 6)) == []  # v2 first seen now: its first tick is 10:10
    [(sched, run_id)] = svc.fire_schedules(at(10, 11))
    assert sched.version == 2 and svc.wait(run_id, 120).version == 2


def test_a_pipeline_runs_on_its_schedule_and_airflow_keeps_its_own(svc, nb, tmp_path):
    make_notebook(tmp_path / "work" / "one.ipynb", "from jupyter_ml_ship import record\n"
                  "record('n', n + 1)", params="n = 1")
    pipeline = tmp_path / "work" / "hourly.pipeline.yaml"
    pipeline.write_text("name: hourly\nschedule: '@hourly'\nparameters: {n: 41}\n"
                        "steps:\n  one:\n    notebook: one.ipynb\n"
                        "    parameters: {n: '{{ params.n }}'}\n")
    svc.ship_pipeline(pipeline)
    svc.ship(nb("theirs.ipynb", "print(1)",
                metadata={"ml_ship": {"schedule": "0 6 * * *", "backend": "airflow"}}))
    by_name = {s.name: s for s in svc.schedules()}
    assert by_name["theirs"].runner == "airflow" and by_name["hourly"].runner == "ml-ship"
    assert by_name["hourly"].next_run is not None
    svc.fire_schedules(at(10, 2))
    fired = svc.fire_schedules(at(11, 0))
    assert [(s.kind, s.name) for s, _ in fired] == [("pipeline", "hourly")]  # not Airflow's
    done = svc.wait_pipeline_run(fired[0][1], timeout=120, interval=0.2)
    assert done.status == "succeeded", done.error
    assert done.steps[0].outputs == {"n": 42}


def test_schedules_from_the_command_line(cli_env, tmp_path):
    path = make_notebook(tmp_path / "cli.ipynb", "print(1)", metadata=EVERY_5)

    def ml(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "jupyter_ml_ship", *args], env=cli_env,
                              capture_output=True, text=True, timeout=120)

    assert "no job or pipeline has a schedule" in ml("schedules").stderr
    assert ml("ship", str(path)).returncode == 0
    listed = ml("schedules")
    assert listed.returncode == 0 and "*/5 * * * *" in listed.stdout
    assert "Jupyter server" in listed.stdout
    [entry] = json.loads(ml("schedules", "--json").stdout)["schedules"]
    assert entry["name"] == "cli" and entry["next_run"]
    fired = ml("schedules", "fire")
    assert fired.returncode == 0 and "no schedule is due" in fired.stderr  # first seen


async def test_the_rest_api_shows_schedules_and_a_jobs_next_run(api: Api,  # noqa: F811
                                                                jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "rest.ipynb", "print(1)", metadata=EVERY_5)
    await api("POST", "ship", body={"path": "rest.ipynb"}, expect=201)
    job: dict[str, Any] = js(await api("GET", "jobs", "rest"))
    assert job["schedule"] == "*/5 * * * *"
    next_run = datetime.fromisoformat(job["next_run"])
    assert next_run.minute % 5 == 0 and next_run > datetime.now(timezone.utc)
    [listed] = js(await api("GET", "schedules"))["schedules"]
    assert (listed["kind"], listed["name"], listed["runner"]) == ("job", "rest", "ml-ship")


async def test_the_server_starts_a_run_when_a_tick_comes(api: Api,  # noqa: F811
                                                        jp_root_dir: Path, ml_home: Path) -> None:
    make_notebook(jp_root_dir / "due.ipynb", "print('started by the server')",
                  metadata={"ml_ship": {"schedule": "* * * * *"}})
    # as if the server had fired a tick of v1 long ago (written before the job exists, so the
    # server's own first look cannot write it first): the current minute's tick is due
    state = ml_home / "schedules" / "job.due.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"version": 1, "tick": "2026-01-01T00:00:00+00:00"}))
    await api("POST", "ship", body={"path": "due.ipynb"}, expect=201)
    deadline = asyncio.get_running_loop().time() + 60
    runs: list[dict[str, Any]] = []
    while not runs and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        runs = js(await api("GET", "runs", params={"job": "due"}))["runs"]
    assert len(runs) == 1, "the server started no run of the due schedule"
    while runs[0]["status"] not in ("succeeded", "failed"):
        await asyncio.sleep(0.2)
        runs = js(await api("GET", "runs", params={"job": "due"}))["runs"]
    assert runs[0]["status"] == "succeeded", runs[0]
    log = (await api("GET", "runs", runs[0]["id"], "logs")).body.decode()
    assert "started by the server" in log
