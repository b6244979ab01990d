"""Gated promotion ("ship = tested") and automatic roll back (``metadata.ml_ship.promote``,
``rollback_on``): candidates validated by a real run on the local backend, rejected or promoted
with the reason; ``test`` cells only in the validation run; ``ml-ship promote``; two degraded
scheduled runs fired by a real ``ml-ship agent`` roll back and mail (aiosmtpd), once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from jupyter_ml_ship.cli import main
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.schedules import FOLDER
from jupyter_ml_ship.errors import BadInput, Conflict

from .notify_harness import MailBox
from .test_agent import start_agent, stop, until

RECORD = "from jupyter_ml_ship import record\nrecord('accuracy', acc)"
TEST_CELL = "print('TEST CELL RAN')\nassert acc > 0.75, f'accuracy {acc} is too low'"
WAIT = 120


def ship(svc: ShipService, nb: Any, acc: float, ml_ship: dict[str, Any], name: str = "train",
         test_cell: str = TEST_CELL) -> Any:
    """A notebook recording ``accuracy`` (its default ``acc``), with a cell tagged ``test``."""
    path = nb(f"{name}.ipynb", RECORD, test_cell, params=f"acc = {acc}",
              tags={1: ["test"]}, metadata={"ml_ship": ml_ship})
    return svc.ship(path)


def validated(svc: ShipService, job: str, number: int) -> Any:
    """The version once its validation run ended (that run's end decides it)."""
    v = svc.version(job, number)
    assert v.promotion == "validating" and v.validation_run_id, v
    svc.wait(v.validation_run_id, timeout=WAIT)
    return svc.version(job, number)


@pytest.fixture
def warm(svc: ShipService) -> ShipService:
    """The home's warm runner, up: runs (the agent's too) are forked from it, not cold."""
    from jupyter_ml_ship.runner import _warm

    svc.prewarm()
    assert _warm.wait_ready(svc.settings, 60)
    return svc


PROMOTE = {"promote": {"validate": {"parameters": {"acc": 0.9}},
                       "not_worse": {"accuracy": 0.01}}}


def test_a_good_candidate_is_promoted_by_its_validation_run_which_is_its_reference(svc, nb):
    shipped = ship(svc, nb, 0.5, PROMOTE)  # the default would fail; validate overrides it
    assert shipped.version.promotion == "validating" and not shipped.version.is_current
    assert shipped.job.current_version is None
    v = validated(svc, "train", 1)
    assert v.promotion == "promoted" and v.is_current
    assert v.reference_run_id == v.validation_run_id
    assert f"validation run {v.validation_run_id} succeeded" in v.promotion_reason
    check = svc.get_run(v.validation_run_id)
    assert check.parameters == {"acc": 0.9} and check.outputs == {"accuracy": 0.9}
    assert b"TEST CELL RAN" in svc.read_log(check.id)[0]
    # a normal run of the same version: the test cell is not in it
    normal = svc.wait(svc.run("train", parameters={"acc": 0.95}).id, timeout=WAIT)
    assert normal.status == "succeeded"
    assert b"TEST CELL RAN" not in svc.read_log(normal.id)[0]
    trail = svc.audit_trail("train").events
    assert [(e.kind, e.actor) for e in trail][:2] == [("run", trail[0].actor),
                                                       ("promote", "validation")]


def test_a_candidate_with_a_lower_accuracy_is_rejected_and_current_is_unchanged(svc, nb):
    ship(svc, nb, 0.9, PROMOTE)
    assert validated(svc, "train", 1).is_current
    lower = {"promote": {"validate": {"parameters": {"acc": 0.85}},
                         "not_worse": {"accuracy": 0.01}}}
    shipped = ship(svc, nb, 0.85, lower)
    assert shipped.version.number == 2 and shipped.job.current_version == 1
    v = validated(svc, "train", 2)
    assert v.promotion == "rejected" and not v.is_current
    assert "accuracy 0.85 is 0.05 below v1's 0.9 (median of its last 1 healthy run), more " \
        "than the tolerance 0.01" in v.promotion_reason, v.promotion_reason
    assert svc.job("train").current_version == 1
    assert svc.version("train", 1).is_current
    # shipping the rejected content again does not make it current either
    again = ship(svc, nb, 0.85, lower)
    assert not again.created and not again.made_current and again.job.current_version == 1


def test_a_rejected_candidates_run_is_no_previous_baseline_for_later_runs(svc, nb):
    """v2 is rejected although its validation run was healthy (not_worse failed): a later run of
    v1 compares with v1's own last run (0.9), not with v2's validation run (0.5)."""
    checked = {**PROMOTE, "checks": {"accuracy": {"max_drop": 0.1, "baseline": "previous"}}}
    ship(svc, nb, 0.9, checked)
    assert validated(svc, "train", 1).is_current
    lower = {**checked, "promote": {"validate": {"parameters": {"acc": 0.5}},
                                    "not_worse": {"accuracy": 0.01}},
             "checks": {"accuracy": {"max_drop": 0.5, "baseline": "previous"}}}
    ship(svc, nb, 0.5, lower, test_cell="print('no test here')")
    v2 = validated(svc, "train", 2)
    assert v2.promotion == "rejected" and svc.get_run(v2.validation_run_id).health == "healthy"
    later = svc.wait(svc.run("train", parameters={"acc": 0.55}).id, timeout=WAIT)
    assert later.health == "degraded", later.checks
    (check,) = later.checks
    assert check.baseline == 0.9 and not check.passed, check


def test_a_candidate_whose_test_cell_asserts_false_is_rejected_naming_the_cell(svc, nb):
    shipped = ship(svc, nb, 0.7, {"promote": True})
    v = validated(svc, "train", shipped.version.number)
    assert v.promotion == "rejected" and not v.is_current
    assert f"validation run {v.validation_run_id} failed: cell 3, line 2 raised " \
           "AssertionError: accuracy 0.7 is too low" in v.promotion_reason, v.promotion_reason
    assert svc.job("train").current_version is None
    with pytest.raises(Exception, match="no current version yet"):
        svc.run("train")


def test_ml_ship_promote_refuses_a_rejected_version_without_force(svc, nb, home, monkeypatch,
                                                                  capsys):
    ship(svc, nb, 0.7, {"promote": True})
    validated(svc, "train", 1)
    monkeypatch.setenv("ML_SHIP_HOME", str(home))
    assert main(["promote", "train", "1"]) == 2
    err = capsys.readouterr().err
    assert "train v1 was rejected: validation run" in err and "--force" in err
    assert svc.job("train").current_version is None
    with pytest.raises(Conflict, match=r"train v1 is rejected: validation run .*; `ml-ship "
                                       r"promote train 1` makes it current \(with --force\)"):
        svc.rollback("train", 1)  # a roll back is no way around the gate
    assert main(["versions", "train"]) == 0
    listed = capsys.readouterr()
    assert "rejected" in listed.out and "v1 rejected: validation run" in listed.err
    assert main(["promote", "train", "1", "--to", "staging"]) == 2  # rejected: no environment
    assert "train v1 was rejected" in capsys.readouterr().err
    assert main(["promote", "train", "1", "--to", "qa"]) == 2
    assert "no environment named 'qa'" in capsys.readouterr().err
    assert main(["promote", "train", "1", "--force", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["promotion"] == "promoted" and out["is_current"]
    assert "with --force (train v1 was rejected" in out["promotion_reason"]
    assert out["reference_run_id"] is None  # its validation run failed: no reference
    event = svc.audit_trail("train").events[0]
    assert event.kind == "promote" and event.data["forced"] is True


@pytest.mark.parametrize(("ml_ship", "message"), [
    ({"promote": "yes"}, "metadata.ml_ship.promote: must be a mapping"),
    ({"promote": {"validate": {"parameters": {"acc": 0.9}}, "gate": 1}},
     "metadata.ml_ship.promote.gate: unknown key (keys: validate, not_worse, to)"),
    ({"promote": {"not_worse": {"accuracy": "a bit"}}},
     "metadata.ml_ship.promote.not_worse.accuracy: must be a number >= 0"),
    ({"promote": {"not_worse": {"loss": {"max_up": 0.1}}}},
     "metadata.ml_ship.promote.not_worse.loss: must be a number >= 0"),
    ({"promote": {"not_worse": {"loss": {"max_rise": -1}}}},
     "metadata.ml_ship.promote.not_worse.loss.max_rise: must be a number >= 0"),
    ({"promote": {"validate": {"parameters": {"sample": 0.1}}}},
     "metadata.ml_ship.promote.validate.parameters: unknown parameter 'sample'"),
    ({"promote": {"validate": {"parameters": {"acc": "high"}}}},
     "metadata.ml_ship.promote.validate.parameters: parameter 'acc' must be float"),
    ({"rollback_on": {"degraded": 0}},
     "metadata.ml_ship.rollback_on.degraded: must be a whole number of runs from 1 to 100"),
    ({"rollback_on": {"failed": 2}}, "metadata.ml_ship.rollback_on.failed: unknown key"),
    ({"rollback_on": 2}, "metadata.ml_ship.rollback_on: must be a mapping"),
])
def test_bad_promote_and_rollback_on_blocks_are_refused_at_ship_naming_the_key(
        svc, nb, ml_ship, message):
    with pytest.raises(BadInput) as exc:
        ship(svc, nb, 0.9, ml_ship)
    assert message in exc.value.message, exc.value.message
    assert svc.jobs() == []  # nothing was recorded


def seen_before_the_last_tick(svc: ShipService, name: str, version: int) -> None:
    """The schedule's state as if a server last looked just before its latest tick: that tick is
    due now (once)."""
    from jupyter_ml_ship.core.schedules import _state_path, last_fire

    tick = last_fire("0 0 1 1 *", datetime.now(timezone.utc))
    assert tick is not None
    path = _state_path(svc, "job", name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": version,
                                "tick": (tick - timedelta(days=1)).isoformat()}))


def test_two_degraded_scheduled_runs_fired_by_an_agent_roll_back_and_mail_once(
        svc, warm, nb, cli_env, tmp_path):
    box = MailBox()
    # yearly: its last tick (1 January) is made due by hand, and no minute boundary during the
    # test can fire another one (a `* * * * *` schedule did when the test spanned a minute)
    config = {"checks": {"accuracy": {"min": 0.8}}, "rollback_on": {"degraded": 2},
              "schedule": "0 0 1 1 *",
              "notify": {"on": ["rolled_back"], "email": ["oncall@example.com"]}}
    agent = None
    try:
        # mail needs an SMTP server at ship (the agent below sends it)
        svc.settings.smtp_host, svc.settings.smtp_port = "127.0.0.1", box.port
        ship(svc, nb, 0.9, config, name="nightly", test_cell="print('no test')")
        good = svc.wait(svc.run("nightly").id, timeout=WAIT)
        assert good.health == "healthy"
        ship(svc, nb, 0.5, config, name="nightly", test_cell="print('no test')")
        assert svc.job("nightly").current_version == 2
        seen_before_the_last_tick(svc, "nightly", version=2)
        env = {**cli_env, "ML_SHIP_SMTP_HOST": "127.0.0.1", "ML_SHIP_SMTP_PORT": str(box.port),
               "ML_SHIP_SMTP_FROM": "ml-ship@example.com"}
        log = tmp_path / "agent.log"
        agent = start_agent(env, "--interval", "0.2", log=log)

        def scheduled_ended(n: int) -> list[Any]:
            runs = [r for r in svc.runs(job="nightly")[0]
                    if r.started_by == "schedule" and r.status in ("succeeded", "failed")]
            return runs if len(runs) >= n else []

        first = until(lambda: scheduled_ended(1), WAIT, "the first scheduled run", log)[0]
        assert first.version == 2 and first.health == "degraded"
        assert svc.job("nightly").current_version == 2  # one is not enough
        # as if a minute went by: the next tick is due (a new agent looks at once)
        assert stop(agent) == 0
        for claim in (svc.home / FOLDER / "fired").iterdir():
            claim.unlink()
        seen_before_the_last_tick(svc, "nightly", version=2)
        agent = start_agent(env, "--interval", "0.2", log=log)
        second = until(lambda: scheduled_ended(2), WAIT, "the second scheduled run", log)[0]
        assert second.version == 2 and second.health == "degraded"
        until(lambda: svc.job("nightly").current_version == 1, 30, "the roll back", log)
        v2 = svc.version("nightly", 2)
        assert v2.auto_rollback is not None and v2.auto_rollback.to == 1
        assert v2.auto_rollback.runs == [first.id, second.id]
        event = svc.audit_trail("nightly").events[0]
        assert (event.kind, event.actor, event.data["from"], event.data["to"]) == (
            "auto-rollback", "rollback_on", 2, 1)
        mail = until(lambda: box.messages, 60, "the rolled_back mail", log)[0]
        assert mail["Subject"] == f"[ml-ship] nightly v2 was rolled back (run {second.id})"
        part = mail.get_payload()[0] if mail.is_multipart() else mail
        body = part.get_payload(decode=True).decode()
        assert "v2 rolled back to v1 after 2 runs in a row degraded or failed" in body
        assert f"run {first.id} degraded: accuracy 0.5 < min 0.8" in body
        assert stop(agent) == 0
        agent = None
        # never twice for the same version: made current again by hand, it stays
        assert main(["--home", str(svc.home), "promote", "nightly", "2"]) == 2
        svc.promote("nightly", 2, force=True)
        for _ in range(2):
            run = svc.wait(svc.run("nightly").id, timeout=WAIT)
            assert run.health == "degraded"
        assert svc.job("nightly").current_version == 2
        assert [e.kind for e in svc.audit_trail("nightly").events].count("auto-rollback") == 1
        assert len(box.messages) == 1
    finally:
        if agent is not None:
            stop(agent)
        box.stop()


def test_roll_back_never_goes_to_a_version_that_was_itself_rolled_back(svc, nb):
    check_no_roll_back_to_a_rolled_back_version(svc, nb)


def check_no_roll_back_to_a_rolled_back_version(svc: ShipService, nb: Any) -> None:
    """Runs that end as a backend's would (``Ended``: no notebook executed); also on
    PostgreSQL (test_postgres)."""
    from .test_checks import Ended

    ended = Ended(svc)
    config = {"checks": {"accuracy": {"min": 0.8}}, "rollback_on": {"degraded": 1}}
    for acc in (0.91, 0.92):
        ship(svc, nb, acc, config, name="churn", test_cell="pass")
        ended("churn", {"accuracy": 0.9})
    ended("churn", {"accuracy": 0.5})  # v2 goes bad: back to v1
    assert svc.job("churn").current_version == 1
    assert svc.version("churn", 2).auto_rollback.to == 1
    ship(svc, nb, 0.93, config, name="churn", test_cell="pass")
    ended("churn", {"accuracy": 0.5}, status="failed")
    # v2's healthy run is newer than v1's, but v2 was rolled back itself: v1 it is
    assert svc.job("churn").current_version == 1
    assert [e.data["to"] for e in svc.audit_trail("churn", kinds=("auto-rollback",)).events] \
        == [1, 1]


def test_only_owners_and_admins_promote_in_team_mode(svc, nb):
    from jupyter_ml_ship.core.access import Actor
    from jupyter_ml_ship.errors import Forbidden

    ada = Actor.of("ada")
    svc.ship(nb("t.ipynb", "pass", metadata={"ml_ship": {"name": "team"}}), actor=ada)
    svc.ship(nb("t.ipynb", "print(2)", metadata={"ml_ship": {"name": "team"}}), actor=ada)
    svc.rollback("team", 1, actor=ada)
    with pytest.raises(Forbidden, match="grace may not promote a version of job team: only "
                                        "its owner ada or an ml-ship admin may"):
        svc.promote("team", 2, actor=Actor.of("grace"))
    assert not svc.job("team", Actor.of("grace")).permissions.promote.allowed
    assert svc.promote("team", 2, actor=Actor.of("root", admin=True)).is_current


def test_a_rejected_candidate_mails_the_reason(home, nb):
    from jupyter_ml_ship.config import MlShip
    from jupyter_ml_ship.core.notifications import deliver_pending

    box = MailBox()
    try:
        svc = ShipService(MlShip(home=str(home), freeze_environment=False, notify_backoff=0.05,
                                 smtp_host="127.0.0.1", smtp_port=box.port,
                                 smtp_from="ml-ship@example.com"))
        ship(svc, nb, 0.7, {"promote": True, "notify": {"on": ["promoted", "rejected"],
                                                         "email": ["oncall@example.com"]}})
        v = validated(svc, "train", 1)
        assert v.promotion == "rejected"
        for _ in range(2):  # planned once, sent once
            deliver_pending(svc, background=False)
        assert len(box.messages) == 1
        mail = box.messages[0]
        assert mail["Subject"] == f"[ml-ship] train v1 was rejected (run {v.validation_run_id})"
        part = mail.get_payload()[0] if mail.is_multipart() else mail
        body = part.get_payload(decode=True).decode()
        assert f"Reason: validation run {v.validation_run_id} failed: cell 3, line 2 raised " \
               "AssertionError: accuracy 0.7 is too low" in body
        svc.close()
    finally:
        box.stop()
