"""Environments (staging, production): named pointers per job; production is the current version.
Promoting to staging then production moves only those pointers; a job with a promotion gate
promotes through its validation run; ``ml-ship run JOB --env``; a schedule bound to staging runs
the staging version (the tick driven with a fixed now); ``MlShip.promote_groups`` refuses a
non-member; audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from jupyter_ml_ship.cli import main
from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.access import Actor
from jupyter_ml_ship.errors import BadInput, Conflict, Forbidden, NotFound

WAIT = 120


def versions(svc: ShipService, job: str) -> dict[int, list[str]]:
    return {v.number: v.environments for v in svc.versions(job)}


def ship_three(svc: ShipService, nb: Any, name: str = "churn",
               meta: dict[str, Any] | None = None) -> None:
    for x in (1, 2, 3):
        svc.ship(nb(f"{name}.ipynb", "print('x is', x)", params=f"x = {x}",
                    metadata={"ml_ship": {"name": name, **(meta or {})}}))


def test_promote_to_staging_then_production_moves_only_those_pointers(svc, nb, home,
                                                                     capsys) -> None:
    ship_three(svc, nb)
    assert svc.job("churn").environments == {"production": 3}  # shipped: current at once

    staged = svc.promote("churn", 2, to="staging")
    assert staged.environments == ["staging"] and not staged.is_current
    assert svc.job("churn").environments == {"staging": 2, "production": 3}
    assert svc.job("churn").current_version == 3
    assert versions(svc, "churn") == {3: ["production"], 2: ["staging"], 1: []}

    assert main(["--home", str(home), "promote", "churn", "2", "--to", "production"]) == 0
    assert "churn: v2 is now the current version (production)" in capsys.readouterr().err
    assert svc.job("churn").environments == {"staging": 2, "production": 2}
    assert versions(svc, "churn") == {3: [], 2: ["staging", "production"], 1: []}

    svc.rollback("churn", 1)  # a roll back moves production, not staging
    assert svc.job("churn").environments == {"staging": 2, "production": 1}
    with pytest.raises(Conflict, match="churn v2 is already in staging"):
        svc.promote("churn", 2, to="staging")
    with pytest.raises(NotFound, match="no environment named 'qa' \\(environments: staging, "
                                       "production"):
        svc.promote("churn", 3, to="qa")

    trail = svc.audit_trail("churn", kinds=("promote",)).events
    assert [(e.data["environment"], e.data["from"], e.data["to"]) for e in trail] == [
        ("production", 3, 2), ("staging", None, 2)]

    assert main(["--home", str(home), "run", "churn", "--env", "staging", "--wait"]) == 0
    out = capsys.readouterr().out
    assert "x is 2" in out
    assert svc.runs(job="churn")[0][0].version == 2
    assert main(["--home", str(home), "versions", "churn"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert "staging,production" not in rows[1] and "staging" in rows[2]


def test_environments_are_configurable_and_an_empty_one_is_said(home, nb) -> None:
    svc = ShipService(MlShip(home=str(home), freeze_environment=False,
                             environments=["dev", "qa", "production"]))
    try:
        ship_three(svc, nb)
        with pytest.raises(NotFound, match="no version in qa"):
            from jupyter_ml_ship.core.environments import environment_version

            with svc.store.session() as s:
                environment_version(s, "job", "churn", "qa", svc.settings.environments)
        svc.promote("churn", 1, to="dev")
        svc.promote("churn", 2, to="qa")
        assert svc.job("churn").environments == {"dev": 1, "qa": 2, "production": 3}
        with pytest.raises(NotFound, match="'staging'"):
            svc.promote("churn", 1, to="staging")
    finally:
        svc.close()


GATED = {"promote": {"validate": {"parameters": {"acc": 0.9}}, "to": "staging"}}
RECORD = "from jupyter_ml_ship import record\nrecord('accuracy', acc)"


def test_a_gated_job_promotes_through_its_validation_run(svc, nb, home) -> None:
    """``promote.to: staging``: a candidate that passes lands in staging, not production; a
    candidate whose run could not start is promoted to an environment through its gate."""
    svc.ship(nb("gate.ipynb", "print(1)", metadata={"ml_ship": {}}))  # v1: production
    shipped = svc.ship(nb("gate.ipynb", RECORD, params="acc = 0.5",
                          metadata={"ml_ship": GATED})).version
    assert shipped.promotion == "validating"
    svc.wait(shipped.validation_run_id, timeout=WAIT)
    assert svc.job("gate").environments == {"staging": 2, "production": 1}
    assert svc.version("gate", 2).promotion == "promoted"
    event = svc.audit_trail("gate", kinds=("promote",)).events[0]
    assert (event.actor, event.data["environment"]) == ("validation", "staging")
    # it passed its gate: on to production at once
    assert svc.promote("gate", 2).environments == ["staging", "production"]

    # team mode with no agent: the candidate's validation run cannot start
    team = ShipService(MlShip(home=str(home), freeze_environment=False, team_mode=True))
    try:
        ada = Actor.of("ada", admin=True)
        v3 = team.ship(nb("gate.ipynb", RECORD, params="acc = 0.6",
                          metadata={"ml_ship": GATED}), actor=ada).version
        assert v3.promotion == "candidate" and "could not start" in v3.promotion_reason
        with pytest.raises(Conflict, match="gate v3 cannot go to staging: its validation run "
                                           "could not start"):
            team.promote("gate", 3, to="staging", actor=ada)
    finally:
        team.close()
    gated = svc.promote("gate", 3, to="staging")  # the gate runs now
    assert (gated.promotion, gated.promotion_target) == ("validating", "staging")
    assert svc.job("gate").environments["staging"] == 2  # not before it passed
    svc.wait(gated.validation_run_id, timeout=WAIT)
    assert svc.job("gate").environments == {"staging": 3, "production": 2}


def test_a_schedule_bound_to_staging_runs_the_staging_version(svc, nb, capsys) -> None:
    from jupyter_ml_ship.core.schedules import fire_due

    meta = {"schedule": "0 * * * *", "schedule_environment": "staging"}
    ship_three(svc, nb, "nightly", meta)
    svc.promote("nightly", 1, to="staging")
    listed = [s for s in svc.schedules() if s.name == "nightly"]
    assert [(s.environment, s.version) for s in listed] == [("staging", 1)]
    assert main(["--home", str(svc.home), "schedules"]) == 0
    assert "v1 (staging)" in capsys.readouterr().out
    now = datetime(2026, 12, 6, 10, 30, tzinfo=timezone.utc)
    assert fire_due(svc, now) == []  # first seen: counts from now
    fired = fire_due(svc, now + timedelta(hours=1))
    assert len(fired) == 1
    run = svc.wait(fired[0][1], timeout=WAIT)
    assert (run.version, run.started_by, run.status) == (1, "schedule", "succeeded")
    assert "x is 1" in svc.output_path(run.id).read_text()

    svc.promote("nightly", 2, to="staging")  # another version: counted from its promotion on
    assert fire_due(svc, now + timedelta(hours=2)) == []
    fired = fire_due(svc, now + timedelta(hours=3))
    run = svc.wait(fired[0][1], timeout=WAIT)
    assert run.version == 2 and svc.job("nightly").current_version == 3

    svc.ship(nb("nightly.ipynb", "print(4)", metadata={"ml_ship": {  # a job with no staging
        "name": "empty", **meta}}))
    listed = {s.name: s for s in svc.schedules()}
    assert "staging has no version yet: nothing runs" in listed["empty"].schedule_error
    assert listed["empty"].next_run is None


def test_a_schedule_environment_that_is_not_configured_is_refused_at_ship(svc, nb) -> None:
    with pytest.raises(BadInput, match="metadata.ml_ship.schedule_environment: no "
                                       "environment named 'stagin'"):
        svc.ship(nb("typo.ipynb", "print(1)", metadata={"ml_ship": {
            "schedule": "0 * * * *", "schedule_environment": "stagin"}}))
    with pytest.raises(BadInput, match="metadata.ml_ship.promote.to: no environment named"):
        svc.ship(nb("typo.ipynb", "print(1)", metadata={"ml_ship": {"promote": {"to": "qa"}}}))


def test_promote_groups_say_who_may_promote_to_which_environment(home, nb) -> None:
    svc = ShipService(MlShip(home=str(home), freeze_environment=False,
                             promote_groups={"production": ["release"]}))
    try:
        ada = Actor.of("ada", groups=["data"])
        for x in (1, 2):
            svc.ship(nb("owned.ipynb", f"print({x})"), actor=ada)
        svc.rollback("owned", 1, actor=ada)
        assert svc.promote("owned", 2, to="staging", actor=ada).environments == ["staging"]
        with pytest.raises(Forbidden, match="ada may not promote job owned to production: only "
                                            "members of release or an ml-ship admin may"):
            svc.promote("owned", 2, actor=ada)
        assert svc.job("owned").current_version == 1
        rel = Actor.of("rel", groups=["release"])
        with pytest.raises(Forbidden, match="rel may not promote a version of job owned"):
            svc.promote("owned", 1, to="staging", actor=rel)  # not an owner: staging is theirs
        assert svc.promote("owned", 2, actor=rel).is_current
        assert svc.audit_trail("owned", kinds=("promote",)).events[0].actor == "rel"
    finally:
        svc.close()


def test_a_pipeline_has_environments_too(svc, nb, home, tmp_path, capsys) -> None:
    """``ml-ship pipeline promote NAME N --to staging`` moves staging only; ``pipeline run
    NAME --env staging`` runs staging's version; ``pipeline versions`` says which is where."""
    nb("step.ipynb", "print('x is', x)", params="x = 1")
    folder = tmp_path / "work"
    for x in (1, 2):
        (folder / "flow.pipeline.yaml").write_text(
            f"name: flow\nsteps:\n  one:\n    notebook: step.ipynb\n    parameters: {{x: {x}}}\n")
        svc.ship_pipeline(folder / "flow.pipeline.yaml")
    assert svc.pipeline("flow").environments == {"production": 2}
    assert main(["--home", str(home), "pipeline", "promote", "flow", "1", "--to",
                 "staging"]) == 0
    assert "pipeline flow: v1 is now in staging" in capsys.readouterr().err
    assert svc.pipeline("flow").environments == {"staging": 1, "production": 2}
    assert [(v.number, v.environments) for v in svc.pipeline_versions("flow")] == [
        (2, ["production"]), (1, ["staging"])]
    assert main(["--home", str(home), "pipeline", "run", "flow", "--env", "staging",
                 "--wait"]) == 0
    run = svc.pipeline_runs(pipeline="flow")[0][0]
    assert (run.version, run.status) == (1, "succeeded")
    assert svc.get_run(run.steps[0].run_id).parameters == {"x": 1}
    with pytest.raises(Conflict, match="pipeline flow v1 is already in staging"):
        svc.promote_pipeline("flow", 1, "staging")
    svc.promote_pipeline("flow", 1)  # production: the current version
    assert svc.pipeline("flow").current_version == 1
    assert svc.audit_trail("flow", kinds=("pipeline-promote",)).events[0].data == {
        "from": 2, "to": 1, "environment": "production"}


def test_a_pipeline_schedule_bound_to_staging_runs_the_staging_version(svc, nb,
                                                                      tmp_path) -> None:
    """A pipeline file's ``schedule_environment`` is honoured like a job's."""
    from jupyter_ml_ship.core.schedules import fire_due

    nb("step.ipynb", "print('x is', x)", params="x = 1")
    folder = tmp_path / "work"
    for x in (1, 2):
        (folder / "nightly.pipeline.yaml").write_text(
            "name: nightly\nschedule: '0 * * * *'\nschedule_environment: staging\nsteps:\n"
            f"  one:\n    notebook: step.ipynb\n    parameters: {{x: {x}}}\n")
        svc.ship_pipeline(folder / "nightly.pipeline.yaml")
    (listed,) = [s for s in svc.schedules() if s.name == "nightly"]
    assert listed.next_run is None and "staging has no version yet" in listed.schedule_error
    svc.promote_pipeline("nightly", 1, "staging")
    (listed,) = [s for s in svc.schedules() if s.name == "nightly"]
    assert (listed.kind, listed.environment, listed.version) == ("pipeline", "staging", 1)
    now = datetime(2026, 12, 6, 10, 30, tzinfo=timezone.utc)
    assert fire_due(svc, now) == []  # first seen: counts from now
    (fired,) = fire_due(svc, now + timedelta(hours=1))
    run = svc.wait_pipeline_run(fired[1], timeout=WAIT)
    assert (run.version, run.started_by, run.status) == (1, "schedule", "succeeded")
    assert svc.get_run(run.steps[0].run_id).parameters == {"x": 1}
