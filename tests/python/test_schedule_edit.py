"""Schedules as first-class objects (#24 item 2): a schedule is edited, paused and resumed
without a new version, in a time zone (daylight saving included), through the service, the CLI
(``ml-ship schedule``) and the REST API (``PATCH /schedules/{kind}/{name}``); every change is
in the audit trail and the tick honours it on its next round (a fixed "now")."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.errors import BadInput, NotFound

from .conftest import make_notebook
from .test_server import (  # noqa: F401  (fixtures)
    Api,
    api,
    authorizer_class,
    jp_server_config,
    js,
    ml_home,
)

DAILY_6 = {"ml_ship": {"schedule": "0 6 * * *"}}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[misc]


def test_a_schedule_in_paris_fires_at_six_local_time_across_the_change_to_summer_time(svc, nb):
    """0 6 * * * in Europe/Paris: 05:00 UTC on Saturday 28 March 2026 (CET), 04:00 UTC on
    Sunday 29 March (CEST): the tick follows the wall clock, not UTC."""
    svc.ship(nb("paris.ipynb", "print('bonjour')", metadata=DAILY_6))
    sched = svc.edit_schedule(None, "paris", timezone="Europe/Paris")
    assert (sched.schedule, sched.timezone, sched.version) == ("0 6 * * *", "Europe/Paris", 1)
    assert svc.fire_schedules(utc(2026, 3, 28, 4, 30)) == []  # first seen: counts from here
    [(fired, run_id)] = svc.fire_schedules(utc(2026, 3, 28, 5, 1))  # 06:01 in Paris (CET)
    assert fired.name == "paris" and svc.wait(run_id, 120).status == "succeeded"
    [listed] = _at(svc, utc(2026, 3, 28, 5, 2))
    assert listed.next_run == utc(2026, 3, 29, 4, 0)  # 06:00 CEST
    assert listed.last_run_id == run_id and listed.last_run_status == "succeeded"
    # 04:01 UTC on the 29th is 06:01 in Paris: due (in UTC, 06:00 would still be two hours off)
    [(_, second)] = svc.fire_schedules(utc(2026, 3, 29, 4, 1))
    assert svc.wait(second, 120).status == "succeeded"
    assert svc.fire_schedules(utc(2026, 3, 29, 5, 1)) == []  # not again at 05:00 UTC
    assert svc.job("paris").current_version == 1  # no new version


def _at(svc: Any, now: datetime) -> list[Any]:
    from jupyter_ml_ship.core.schedules import schedules

    return schedules(svc, now)


def test_pause_resume_and_a_new_cron_without_a_new_version_audited(svc, nb):
    svc.ship(nb("edit.ipynb", "print(1)", metadata={"ml_ship": {"schedule": "*/5 * * * *"}}))
    svc.fire_schedules(utc(2026, 11, 26, 10, 2))  # first seen
    paused = svc.edit_schedule("job", "edit", paused=True)
    assert paused.paused and paused.next_run is None
    assert svc.job("edit").schedule_paused and svc.job("edit").next_run is None
    assert svc.fire_schedules(utc(2026, 11, 26, 10, 6)) == []  # paused: the 10:05 tick is skipped
    resumed = svc.edit_schedule("job", "edit", paused=False)
    assert not resumed.paused and resumed.next_run is not None
    assert svc.fire_schedules(utc(2026, 11, 26, 10, 7)) == []  # the missed tick starts nothing
    [(_, run_id)] = svc.fire_schedules(utc(2026, 11, 26, 10, 11))  # the next one does
    assert svc.wait(run_id, 120).status == "succeeded"
    edited = svc.edit_schedule("job", "edit", cron="0  7 * * 1-5")
    assert (edited.schedule, edited.shipped_schedule, edited.edited) == \
        ("0 7 * * 1-5", "*/5 * * * *", True)
    assert "07:00" in edited.description and "Monday through Friday" in edited.description
    assert svc.job("edit").schedule == "0 7 * * 1-5" and svc.job("edit").current_version == 1
    assert svc.fire_schedules(utc(2026, 11, 26, 10, 16)) == []  # another cron: counts anew
    assert svc.fire_schedules(utc(2026, 11, 27, 7, 1))  # Friday 07:00
    events = svc.audit_trail("edit", kinds=("schedule",)).events
    assert [e.data["action"] for e in events] == ["edit", "resume", "pause"]
    assert events[0].data["from"]["cron"] == "*/5 * * * *"
    assert events[0].data["to"] == {"cron": "0 7 * * 1-5", "timezone": "UTC", "paused": False}
    # a version shipped with another schedule wins over the edit; the same one keeps it
    path = nb("edit.ipynb", "print(2)", metadata={"ml_ship": {"schedule": "*/5 * * * *"}})
    assert svc.ship(path).version.number == 2
    assert svc.job("edit").schedule == "0 7 * * 1-5"
    make_notebook(path, "print(3)", metadata={"ml_ship": {"schedule": "30 8 * * *"}})
    svc.ship(path)
    assert svc.job("edit").schedule == "30 8 * * *"


def test_bad_edits_are_refused_naming_what_and_nothing_changes(svc, nb):
    svc.ship(nb("bad.ipynb", "print(1)", metadata=DAILY_6))
    with pytest.raises(BadInput, match=r"'Mars/Olympus' is not a known time zone: write an IANA"):
        svc.edit_schedule("job", "bad", timezone="Mars/Olympus")
    with pytest.raises(BadInput, match=r"'0 0 31 2 \*' never fires"):
        svc.edit_schedule("job", "bad", cron="0 0 31 2 *")
    with pytest.raises(BadInput, match=r"'every day' is not a schedule"):
        svc.edit_schedule("job", "bad", cron="every day")
    assert svc.edit_schedule("job", "bad").schedule == "0 6 * * *"  # nothing asked: as it is
    with pytest.raises(NotFound, match="no job named 'nope' has a schedule"):
        svc.edit_schedule("job", "nope")
    [sched] = svc.schedules()
    assert (sched.schedule, sched.timezone, sched.paused) == ("0 6 * * *", "UTC", False)
    assert svc.audit_trail("bad", kinds=("schedule",)).events == []


def test_schedule_from_the_command_line(cli_env, tmp_path):
    path = make_notebook(tmp_path / "cli.ipynb", "print(1)", metadata=DAILY_6)

    def ml(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "jupyter_ml_ship", *args], env=cli_env,
                              capture_output=True, text=True, timeout=120)

    assert ml("ship", str(path)).returncode == 0
    done = ml("schedule", "cli", "--cron", "30 7 * * 1-5", "--tz", "America/New_York")
    assert done.returncode == 0, done.stderr
    assert "job cli: 30 7 * * 1-5 (America/New_York), active" in done.stdout
    assert "next run:" in done.stderr
    paused = ml("schedule", "cli", "--pause")
    assert paused.returncode == 0 and "paused" in paused.stdout
    listed = ml("schedules")
    assert "America/New_York" in listed.stdout and "paused (edited)" in listed.stdout
    assert "07:30" in listed.stdout  # the schedule in words
    [entry] = json.loads(ml("schedules", "--json").stdout)["schedules"]
    assert entry["paused"] is True and entry["timezone"] == "America/New_York"
    bad = ml("schedule", "cli", "--tz", "Europe/Atlantis")
    assert bad.returncode == 2 and "'Europe/Atlantis' is not a known time zone" in bad.stderr
    assert ml("schedule", "cli", "--resume").returncode == 0
    history = ml("audit", "cli")
    assert history.stdout.count("schedule") >= 3, history.stdout


async def test_the_rest_api_edits_pauses_and_refuses_an_unknown_zone(api: Api,  # noqa: F811
                                                                      jp_root_dir: Path) -> None:
    make_notebook(jp_root_dir / "rest.ipynb", "print(1)", metadata=DAILY_6)
    await api("POST", "ship", body={"path": "rest.ipynb"}, expect=201)
    sched = js(await api("PATCH", "schedules", "job", "rest",
                         body={"cron": "15 9 * * *", "timezone": "Asia/Tokyo"}))
    assert (sched["schedule"], sched["timezone"], sched["edited"]) == \
        ("15 9 * * *", "Asia/Tokyo", True)
    assert datetime.fromisoformat(sched["next_run"]).minute == 15
    assert datetime.fromisoformat(sched["next_run"]).hour == 0  # 09:15 in Tokyo is 00:15 UTC
    js(await api("PATCH", "schedules", "job", "rest", body={"paused": True}))
    [listed] = js(await api("GET", "schedules"))["schedules"]
    assert listed["paused"] is True and listed["next_run"] is None
    job = js(await api("GET", "jobs", "rest"))
    assert job["schedule"] == "15 9 * * *" and job["current_version"] == 1
    for body, said in (({"timezone": "Nowhere/Land"}, "is not a known time zone"),
                       ({"cron": "0 0 30 2 *"}, "never fires")):
        refused = await api("PATCH", "schedules", "job", "rest", body=body, expect=400)
        assert said in js(refused)["message"]
    assert js(await api("GET", "schedules"))["schedules"][0]["timezone"] == "Asia/Tokyo"
    await api("PATCH", "schedules", "job", "nope", body={"paused": True}, expect=404)


def test_a_pipeline_schedule_is_paused_and_given_a_zone_without_a_new_version(svc, tmp_path):
    make_notebook(tmp_path / "work" / "one.ipynb", "print(1)")
    pipeline = tmp_path / "work" / "hourly.pipeline.yaml"
    pipeline.write_text("name: hourly\nschedule: '@hourly'\nsteps:\n  one:\n    notebook: one.ipynb\n")
    svc.ship_pipeline(pipeline)
    sched = svc.edit_schedule(None, "hourly", timezone="Asia/Kolkata", paused=True)
    assert (sched.kind, sched.schedule, sched.timezone, sched.paused) == \
        ("pipeline", "@hourly", "Asia/Kolkata", True)
    assert svc.fire_schedules(utc(2026, 11, 26, 10, 2)) == []
    assert svc.fire_schedules(utc(2026, 11, 26, 11, 1)) == []  # paused: the 11:00 tick is skipped
    # half-hour zone: @hourly in Kolkata (UTC+05:30) ticks at :30 UTC
    resumed = svc.edit_schedule("pipeline", "hourly", paused=False)
    assert resumed.next_run is not None and resumed.next_run.minute == 30
    assert svc.pipeline("hourly").current_version == 1
    events = svc.audit_trail("hourly", kinds=("schedule",)).events
    assert [e.data["action"] for e in events] == ["resume", "pause"]


def test_an_empty_cron_or_zone_changes_nothing(svc, nb):
    svc.ship(nb("same.ipynb", "print(1)", metadata=DAILY_6))
    sched = svc.edit_schedule("job", "same", cron=" ")
    assert (sched.schedule, sched.timezone, sched.edited) == ("0 6 * * *", "UTC", False)
    assert svc.audit_trail("same", kinds=("schedule",)).events == []
