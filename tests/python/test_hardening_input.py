"""Hardening (#20, items 2 and 3): a schedule that never fires is refused when shipped and, if
already stored, breaks nothing but itself; tiny inputs that would make unbounded work (a YAML
alias bomb, a template bomb) are refused at once, and the server keeps answering meanwhile."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.errors import BadInput
from jupyter_ml_ship.pipelines.spec import load_pipeline

# ---- item 2: schedules that never fire ----------------------------------------------------

#: (expression, what ship says: None = accepted)
SCHEDULES = [
    ("0 0 31 2 *", "never fires"),  # Feb 31
    ("0 0 30 2 *", "never fires"),  # Feb 30
    ("* * 31 2 *", "never fires"),
    ("0 0 31 4,6,9,11 *", "never fires"),  # the 30-day months
    ("0 0 30,31 2 *", "never fires"),
    ("0 0 31 2/12 *", "never fires"),  # February only, by a step
    ("0 0 * 2 1#5", "never fires"),  # a fifth Monday in February: once in 28 years
    ("@reboot", "is not a schedule"),  # cron's, not Airflow's: no time at all
    ("R 6 * * *", "random fields"),  # croniter picks another minute at every reading
    ("0 0 29 2 *", None),  # leap day: every 4 years (8 across 2100)
    ("0 0 L 2 *", None),  # the last day of February
    ("0 0 31 * *", None),  # the months that have a 31st
    ("0 0 31 2 1", None),  # day OR weekday (cron's rule): every Monday of February too
    ("0 6 * * MON-FRI", None),
    ("@daily", None),
]


@pytest.mark.parametrize(("expression", "refusal"), SCHEDULES)
def test_a_schedule_that_never_fires_is_refused_at_ship(svc: ShipService, nb: Any, tmp_path: Path,
                                                        expression: str,
                                                        refusal: str | None) -> None:
    path = nb("sched.ipynb", "print(1)", metadata={"ml_ship": {"schedule": expression}})
    pipe = tmp_path / "work" / "sched.pipeline.yaml"
    pipe.write_text(f"schedule: {json.dumps(expression)}\nsteps:\n  a: {{notebook: sched.ipynb}}\n")
    if refusal is None:
        assert svc.ship(path).version.config["schedule"] == expression
        assert load_pipeline(pipe).schedule == expression
        return
    quoted = repr(expression).replace("*", r"\*").replace("+", r"\+")
    with pytest.raises(BadInput, match=rf"sched.ipynb: metadata.ml_ship.schedule: {quoted}.*"
                                       f"{refusal}"):
        svc.ship(path)
    with pytest.raises(BadInput, match=rf"sched.pipeline.yaml, line 1: schedule: {quoted}.*"
                                       f"{refusal}"):
        load_pipeline(pipe)
    assert svc.jobs() == []


def store_schedule(svc: ShipService, job: str, number: int, schedule: str) -> None:
    """Write a schedule into a stored version directly (as a store older than the check has)."""
    from jupyter_ml_ship.store.schema import Job, Version

    with svc.store.session() as s:
        job_id = s.scalar(select(Job.id).where(Job.name == job))
        config = dict(s.scalar(select(Version.config).where(
            Version.job_id == job_id, Version.number == number)) or {})
        s.execute(update(Version).where(Version.job_id == job_id, Version.number == number)
                  .values(config={**config, "schedule": schedule}))


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 26, hh, mm, 30, tzinfo=timezone.utc)


def test_a_stored_schedule_that_never_fires_breaks_only_itself(svc: ShipService, nb: Any,
                                                               cli_env: dict[str, str]) -> None:
    every = {"ml_ship": {"schedule": "*/5 * * * *"}}
    svc.ship(nb("good.ipynb", "print('good ran')", metadata=every))
    svc.ship(nb("bad.ipynb", "print('bad ran')", metadata=every))
    store_schedule(svc, "bad", 1, "0 0 31 2 *")

    jobs = {j.name: j for j in svc.jobs()}
    assert jobs["good"].next_run is not None and jobs["good"].schedule_error is None
    assert jobs["bad"].next_run is None
    assert "'0 0 31 2 *' never fires" in (jobs["bad"].schedule_error or "")
    listed = {s.name: s for s in svc.schedules()}
    assert listed["bad"].next_run is None and "never fires" in (listed["bad"].schedule_error or "")

    cli = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "jobs"], env=cli_env,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert "good" in cli.stdout and "bad" in cli.stdout
    assert "bad v1: metadata.ml_ship.schedule: '0 0 31 2 *' never fires" in cli.stderr

    # the tick: the bad schedule is said once, the good one keeps firing
    first = svc.tick(discover=False, now=at(10, 2))
    assert first.errors == []
    assert [(s.name, o) for s, o in first.fired] == [
        ("bad", "error: not run: '0 0 31 2 *' never fires: no date matches it (checked 8 years "
                "ahead)")]
    second = svc.tick(discover=False, now=at(10, 6))
    assert second.errors == []
    [(sched, run_id)] = second.fired  # the bad one is not said again
    assert sched.name == "good" and not run_id.startswith("error")
    assert svc.wait(run_id, 120).status == "succeeded"


def test_a_rollback_to_a_version_whose_schedule_never_fires_changes_nothing(
        svc: ShipService, nb: Any, tmp_path: Path) -> None:
    from jupyter_ml_ship.store.schema import Event, PipelineVersion

    svc.ship(nb("r.ipynb", "print(1)", metadata={"ml_ship": {"schedule": "@daily"}}))
    svc.ship(nb("r.ipynb", "print(2)", metadata={"ml_ship": {"schedule": "@daily"}}))
    store_schedule(svc, "r", 1, "0 0 30 2 *")
    with pytest.raises(BadInput, match=r"r v1: metadata.ml_ship.schedule: '0 0 30 2 \*' never"):
        svc.rollback("r", 1)
    assert svc.job("r").current_version == 2
    with svc.store.session() as s:
        assert s.scalars(select(Event.kind).where(Event.kind == "rollback")).all() == []

    pipe = tmp_path / "work" / "p.pipeline.yaml"
    for n in (1, 2):
        pipe.write_text(f"schedule: '@daily'\nparameters: {{n: {n}}}\nsteps:\n"
                        "  a: {notebook: r.ipynb}\n")
        svc.ship_pipeline(pipe)
    with svc.store.session() as s:
        s.execute(update(PipelineVersion).where(PipelineVersion.number == 1).values(
            spec={**s.scalar(select(PipelineVersion.spec).where(PipelineVersion.number == 1)),
                  "schedule": "0 0 31 4,6,9,11 *"}))
    with pytest.raises(BadInput, match=r"pipeline p v1: schedule: '0 0 31 4,6,9,11 \*' never"):
        svc.rollback_pipeline("p", 1)
    assert svc.pipeline("p").current_version == 2
    assert svc.rollback("r", 2).current_version == 2  # a good one still rolls back

