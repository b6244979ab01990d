"""Checks on a run's outputs (``metadata.ml_ship.checks``, a pipeline step's ``checks:``): the
health of a run, baselines, what is refused at ship, ``ml-ship health``, degraded mails, and
``on_degraded: stop`` in a pipeline. Core-level: no server."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.cli import main
from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.checks.health import job_health
from jupyter_ml_ship.core.notifications import deliver_pending
from jupyter_ml_ship.errors import BadInput
from jupyter_ml_ship.store import Run, Version
from jupyter_ml_ship.store.schema import utcnow

from .notify_harness import MailBox

RECORD = "from jupyter_ml_ship import record\nrecord('accuracy', acc)\nrecord('rows', rows)"


def ship_checked(svc: ShipService, nb: Any, checks: Any, name: str = "train",
                 extra: str = "", **config: Any) -> Any:
    path = nb(f"{name}.ipynb", RECORD + extra, params="acc = 0.9\nrows = 5000",
              metadata={"ml_ship": {"checks": checks, **config}})
    return svc.ship(path)


class Ended:
    """Runs of a job's current version that end with given outputs through the service's own
    end of a run (``_finish``, what reconciling a backend's ``result.json`` calls), without
    executing a notebook; ids increase with each run, as real ones do."""

    def __init__(self, svc: ShipService):
        self.svc = svc
        self.ids = itertools.count(int(time.time() * 1000))

    def __call__(self, job: str, outputs: dict[str, Any], status: str = "succeeded",
                 version: int | None = None) -> str:
        svc = self.svc
        run_id = f"{next(self.ids):011x}000000"
        with svc.store.session() as s:
            v = svc._version(s, job, version)
            run_dir = svc.home / "runs" / run_id
            run_dir.mkdir(parents=True)
            s.add(Run(id=run_id, job_id=v.job_id, version_id=v.id, version_number=v.number,
                      backend="local", status="running", parameters={}, attempts=1,
                      max_attempts=1, created_at=utcnow(), started_at=utcnow(), outputs={},
                      run_dir=str(run_dir), backend_ref={}))
        error = None if status == "succeeded" else {"message": "boom", "ename": "ValueError"}
        svc._finish(run_id, status, error, {"status": status, "outputs": outputs, "attempts": 1})
        return run_id


@pytest.fixture
def ended(svc: ShipService) -> Ended:
    return Ended(svc)


def by_rule(info: Any) -> dict[tuple[str, str], Any]:
    return {(c.name, c.rule): c for c in info.checks}


# ---- a run's health ---------------------------------------------------------------------------


def test_a_run_under_its_bound_succeeds_but_is_degraded_naming_the_check(svc, nb, home,
                                                                         monkeypatch, capsys):
    ship_checked(svc, nb, {"accuracy": {"min": 0.8}, "rows": {"min": 1000, "max": 1e7},
                           "loss": {"required": True}, "auc": {"max": 1}})
    run = svc.wait(svc.run("train", parameters={"acc": 0.7}).id, timeout=120)
    assert run.status == "succeeded" and run.health == "degraded"
    checks = by_rule(run)
    acc = checks[("accuracy", "min")]
    assert (acc.passed, acc.value, acc.bound) == (False, 0.7, 0.8)
    assert acc.message == "accuracy 0.7 < min 0.8"
    assert checks[("rows", "min")].passed and checks[("rows", "max")].passed
    loss = checks[("loss", "required")]
    assert not loss.passed and loss.message == "loss: required but not recorded"
    auc = checks[("auc", "max")]  # a bound on an output never recorded (not required) passes
    assert auc.passed and "not recorded" in auc.message
    # what a user reads: ml-ship status and the health of the job
    monkeypatch.setenv("ML_SHIP_HOME", str(home))
    assert main(["status", run.id]) == 0
    out = capsys.readouterr().out
    assert "health  degraded" in out and "FAILED accuracy 0.7 < min 0.8" in out
    assert main(["health", "train"]) == 0
    out = capsys.readouterr().out
    assert "train v1: degraded" in out and "failing: accuracy 0.7 < min 0.8" in out
    assert main(["status", run.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["health"] == "degraded"
    assert {"name": "accuracy", "rule": "min", "value": 0.7, "baseline": None, "bound": 0.8,
            "passed": False, "message": "accuracy 0.7 < min 0.8"} in shown["checks"]


def test_healthy_with_checks_and_without_and_a_failed_run_is_not_checked(svc, nb, ended):
    ship_checked(svc, nb, {"accuracy": {"min": 0.8}})
    good = svc.get_run(ended("train", {"accuracy": 0.85}))
    assert good.health == "healthy" and [c.passed for c in good.checks] == [True]
    failed = svc.get_run(ended("train", {"accuracy": 0.1}, status="failed"))
    assert failed.status == "failed" and failed.health == "healthy" and failed.checks == []
    path = nb("plain.ipynb", RECORD, params="acc = 0.1\nrows = 1")
    svc.ship(path)
    plain = svc.get_run(ended("plain", {"accuracy": 0.1}))
    assert plain.health == "healthy" and plain.checks == []


def test_max_drop_against_the_median_of_the_last_n_healthy_runs_of_the_version(svc, nb,
                                                                              ended):
    ship_checked(svc, nb, {"auc": {"max_drop": 0.05, "baseline": "last_3"}})
    ended("train", {"auc": 0.99})  # v1: not the version checked below
    ship_checked(svc, nb, {"auc": {"max_drop": 0.05, "baseline": "last_3"}}, extra="\n# v2")
    for auc in (0.50, 0.80, 0.91):
        ended("train", {"auc": auc})
    ended("train", {"auc": 0.95}, status="failed")  # not succeeded: not a baseline
    ended("train", {"other": 1})  # did not record auc: skipped
    ended("train", {"auc": 0.89})
    # the last 3 healthy runs of v2 with auc: 0.89, 0.91, 0.80 -> median 0.89
    run = svc.get_run(ended("train", {"auc": 0.83}))
    drop = by_rule(run)[("auc", "max_drop")]
    assert run.health == "degraded" and not drop.passed
    assert drop.baseline == pytest.approx(0.89) and drop.value == 0.83
    assert "median of the last 3 healthy runs of v2" in drop.message
    assert "dropped 0.06" in drop.message  # an absolute difference
    # that degraded run is no baseline for the next one: 0.89 again, 0.85 is within 0.05
    nxt = svc.get_run(ended("train", {"auc": 0.85}))
    assert nxt.health == "healthy", nxt.checks
    assert by_rule(nxt)[("auc", "max_drop")].baseline == pytest.approx(0.89)


def test_previous_and_reference_baselines_and_a_first_run_with_none(svc, nb, ended):
    ship_checked(svc, nb, {"loss": {"max_rise": 0.1}, "auc": {"max_drop": 0.1,
                                                             "baseline": "reference"}})
    first = svc.get_run(ended("train", {"loss": 0.30, "auc": 0.8}))
    rise = by_rule(first)[("loss", "max_rise")]
    assert first.health == "healthy" and rise.baseline is None
    assert "no baseline yet" in rise.message
    assert "version 1 has no reference run" in by_rule(first)[("auc", "max_drop")].message
    worse = svc.get_run(ended("train", {"loss": 0.45, "auc": 0.8}))
    rise = by_rule(worse)[("loss", "max_rise")]
    assert worse.health == "degraded" and rise.baseline == 0.30
    assert f"previous run {first.id}" in rise.message and "rose 0.15" in rise.message
    # the degraded run is skipped: the previous healthy one is still the first
    again = svc.get_run(ended("train", {"loss": 0.35, "auc": 0.8}))
    assert again.health == "healthy" and by_rule(again)[("loss", "max_rise")].baseline == 0.30
    with svc.store.session() as s:  # what promotion will do
        s.get(Version, svc._version(s, "train", 1).id).reference_run_id = first.id
    ref = svc.get_run(ended("train", {"loss": 0.35, "auc": 0.65}))
    drop = by_rule(ref)[("auc", "max_drop")]
    assert not drop.passed and drop.baseline == 0.8
    assert f"reference run {first.id}" in drop.message


def test_drift_validates_and_passes_until_its_rule_is_registered(svc, nb, ended):
    from jupyter_ml_ship.core.checks import registry

    ship_checked(svc, nb, {"features": {"drift": {"max_share": 0.3}}})
    run = svc.get_run(ended("train", {"accuracy": 1}))
    drift = by_rule(run)[("features", "drift")]
    if registry.rule("drift") is registry._drift_needs_extra:
        assert drift.passed and drift.message == registry.DRIFT_NEEDS_EXTRA
    else:  # core/checks/drift.py registered its rule: it runs (no data recorded here)
        assert drift.rule == "drift"


def test_a_registered_rule_sees_the_run_and_records_outputs_and_a_broken_one_fails(svc, nb,
                                                                                   ended):
    from jupyter_ml_ship.core.checks import RuleOutcome, register_rule, registry
    from jupyter_ml_ship.models import CheckResult

    seen: list[tuple[Any, ...]] = []

    def share(ctx: Any, output: str, spec: Any) -> RuleOutcome:
        seen.append((ctx.job, ctx.version, ctx.run_dir.name, ctx.artifacts_dir.parent,
                     ctx.home, spec.rule_value("share")))
        value = ctx.outputs["rows"] / 10_000
        return RuleOutcome([CheckResult(name=output, rule="share", value=value, passed=True,
                                        message=f"{output} share {value}")],
                           outputs={f"{output}.share": value})

    def broken(ctx: Any, output: str, spec: Any) -> list[CheckResult]:
        raise RuntimeError("no such table")

    register_rule("share", share)
    register_rule("broken", broken)
    try:
        ship_checked(svc, nb, {"rows": {"share": {"of": 10_000}}})
        run = svc.get_run(ended("train", {"rows": 5000}))
        assert run.health == "healthy" and run.outputs["rows.share"] == 0.5
        assert seen == [("train", 1, run.id, svc.home / "runs" / run.id, svc.home,
                         {"of": 10_000})]
        ship_checked(svc, nb, {"rows": {"broken": True}})
        run = svc.get_run(ended("train", {"rows": 5000}))
        assert run.status == "succeeded" and run.health == "degraded"
        assert run.checks[0].message == ("rows: the broken check could not run: RuntimeError: "
                                         "no such table")
    finally:
        for name in ("share", "broken"):
            registry._rules.pop(name)
            registry._extra.pop(name)


# ---- refused at ship --------------------------------------------------------------------------

BAD = [
    ({"accuracy": {"min": "high"}}, "metadata.ml_ship.checks.accuracy.min: must be a number, "
                                    "got 'high'"),
    ({"accuracy": {"minimum": 0.8}}, "metadata.ml_ship.checks.accuracy.minimum: unknown rule"),
    ({"auc": {"max_drop": 0.05, "baseline": "last_week"}},
     "metadata.ml_ship.checks.auc.baseline: must be previous, reference or last_N"),
    ({"auc": {"baseline": "previous"}},
     "metadata.ml_ship.checks.auc.baseline: a baseline needs max_drop or max_rise"),
    ({"auc": {"max_drop": -0.1}}, "metadata.ml_ship.checks.auc.max_drop: must be >= 0 (the "
                                  "largest change allowed, an absolute difference), got -0.1"),
    ({"loss": {"required": "yes"}}, "metadata.ml_ship.checks.loss.required: must be true or "
                                    "false, got 'yes'"),
    ({"rows": {"min": 10, "max": 1}}, "metadata.ml_ship.checks.rows.min: min 10 is above max 1"),
    ({"rows": {"max": True}}, "metadata.ml_ship.checks.rows.max: must be a number, got True"),
    ({"rows": 5}, "metadata.ml_ship.checks.rows: must be a mapping of rules"),
    (["accuracy"], "metadata.ml_ship.checks: must be a mapping of output names to rules"),
    ({"x": {"drift": {"max_share": 2}}}, "metadata.ml_ship.checks.x.drift.max_share:"),
]


@pytest.mark.parametrize(("checks", "message"), BAD, ids=[m.split(": ")[0].rsplit(".", 1)[-1] + "-" + str(i) for i, (_, m) in enumerate(BAD)])
def test_bad_checks_are_refused_at_ship_naming_the_key(svc, nb, checks, message):
    with pytest.raises(BadInput) as err:
        ship_checked(svc, nb, checks)
    assert err.value.message.startswith("train.ipynb: " + message), err.value.message
    assert svc.jobs() == []  # nothing recorded


def test_bad_step_checks_in_a_pipeline_file_name_the_file_line_and_key(svc, nb, tmp_path):
    nb("train.ipynb", RECORD, params="acc = 0.9\nrows = 5000")
    path = tmp_path / "work" / "churn.pipeline.yaml"
    path.write_text("steps:\n  train:\n    notebook: train.ipynb\n    checks:\n"
                    "      accuracy: {min: high}\n")
    with pytest.raises(BadInput) as err:
        svc.ship_pipeline(path)
    assert err.value.message == ("churn.pipeline.yaml, line 5: steps.train.checks.accuracy.min: "
                                 "must be a number, got 'high'")
    path.write_text("steps:\n  train:\n    notebook: train.ipynb\n    on_degraded: halt\n")
    with pytest.raises(BadInput) as err:
        svc.ship_pipeline(path)
    assert "line 4: steps.train.on_degraded: must be stop or continue, got 'halt'" \
        in err.value.message


# ---- health of a job --------------------------------------------------------------------------


def test_health_of_a_job_lists_each_checked_output_over_its_runs(svc, nb, ended, home,
                                                                monkeypatch, capsys):
    ship_checked(svc, nb, {"accuracy": {"min": 0.8}, "rows": {"min": 1000}})
    ids = [ended("train", {"accuracy": a, "rows": 5000}) for a in (0.9, 0.7, 0.85)]
    ended("train", {}, status="failed")
    health = job_health(svc, "train")
    assert health.health == "healthy" and health.latest_run_id == ids[-1]
    c = health.counts
    assert (c.runs, c.succeeded, c.healthy, c.degraded, c.failed) == (4, 3, 2, 1, 1)
    acc = {o.name: o for o in health.outputs}["accuracy"]
    assert acc.rules == {"min": 0.8} and acc.latest == 0.85 and acc.failed == 1
    assert [(p.run_id, p.value, p.passed) for p in acc.points] == [
        (ids[0], 0.9, True), (ids[1], 0.7, False), (ids[2], 0.85, True)]
    assert len(job_health(svc, "train", limit=2).outputs[0].points) == 2
    with pytest.raises(BadInput):
        job_health(svc, "train", limit=0)
    monkeypatch.setenv("ML_SHIP_HOME", str(home))
    assert main(["health", "train"]) == 0
    out = capsys.readouterr().out
    assert "train v1: healthy" in out and "3 succeeded (2 healthy, 1 degraded), 1 failed" in out
    assert "accuracy  min 0.8" in out and "0.9 0.7✗ 0.85" in out
    assert main(["health", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["jobs"]
    assert [(h["job"], h["health"], h["counts"]["degraded"]) for h in listed] == [
        ("train", "healthy", 1)]
    assert main(["health", "nope"]) == 2
    assert "no job named 'nope'" in capsys.readouterr().err


# ---- alerts -------------------------------------------------------------------------------------


def test_a_degraded_run_mails_once_naming_the_failing_checks_and_values(home, nb):
    box = MailBox()
    try:
        svc = ShipService(MlShip(home=str(home), freeze_environment=False, notify_backoff=0.05,
                                 smtp_host="127.0.0.1", smtp_port=box.port,
                                 smtp_from="ml-ship@example.com"))
        ship_checked(svc, nb, {"accuracy": {"min": 0.8}, "rows": {"max": 1000}},
                     notify={"on": ["degraded"], "email": ["oncall@example.com"]})
        run = svc.wait(svc.run("train", parameters={"acc": 0.7}).id, timeout=120)
        assert run.status == "succeeded" and run.health == "degraded"
        for _ in range(3):  # the agent's or server's ticks: planned once, sent once
            deliver_pending(svc, background=False)
        assert len(box.messages) == 1
        mail = box.messages[0]
        assert mail["Subject"] == f"[ml-ship] train v1 is degraded (run {run.id})"
        body = mail.get_payload()[0].get_payload(decode=True).decode()
        assert "Failing checks: accuracy 0.7 < min 0.8; rows 5000 > max 1000" in body
        assert [(d.event, d.status) for d in svc.get_run(run.id).notifications] == [
            ("degraded", "sent")]
        svc.close()
    finally:
        box.stop()


def test_degraded_and_the_new_events_are_accepted_in_notify_rules():
    from jupyter_ml_ship.notify_spec import parse_notify

    rules = parse_notify({"on": ["degraded", "drift", "promoted", "rejected", "rolled_back"],
                          "email": ["a@example.com"]}, "notify")
    assert rules and rules[0].on == ["degraded", "drift", "promoted", "rejected", "rolled_back"]
    default = parse_notify({"email": ["a@example.com"]}, "notify")
    assert default and "degraded" in default[0].on


# ---- pipelines ----------------------------------------------------------------------------------


def test_on_degraded_stop_skips_the_steps_after_and_fails_the_pipeline(svc, nb, tmp_path):
    nb("train.ipynb", RECORD, params="acc = 0.7\nrows = 5000")
    nb("deploy.ipynb", "print('deployed', acc)", params="acc = 0.0")
    path = tmp_path / "work" / "release.pipeline.yaml"
    path.write_text("""
steps:
  train:
    notebook: train.ipynb
    checks: {accuracy: {min: 0.8}}
    on_degraded: stop
  deploy:
    notebook: deploy.ipynb
    depends_on: [train]
    parameters: {acc: "{{ steps.train.outputs.accuracy }}"}
""")
    shipped = svc.ship_pipeline(path)
    assert {s.id: s.on_degraded for s in shipped.version.steps} == {"train": "stop",
                                                                   "deploy": "continue"}
    info = svc.drive_pipeline_run(svc.run_pipeline("release", detach=False).id, timeout=240)
    steps = {s.id: s for s in info.steps}
    assert steps["train"].status == "succeeded"
    train = svc.get_run(steps["train"].run_id)
    assert train.health == "degraded"  # the step's checks, over its notebook's (none)
    assert steps["deploy"].status == "skipped" and steps["deploy"].run_id is None
    assert steps["deploy"].error.message == "upstream step train degraded"
    assert info.status == "failed"
    assert info.error.message == "step train degraded: accuracy 0.7 < min 0.8"


# ---- an existing store ----------------------------------------------------------------------


def test_a_store_of_the_previous_release_upgrades_with_healthy_runs(tmp_path: Path):
    check_upgrade_from_0006(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)


def check_upgrade_from_0006(url: str, tmp_path: Path) -> None:
    """A store made by the release before checks (migration 0006), with a run, opened by this
    one: migrated, the run healthy with no checks (also run on PostgreSQL)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from jupyter_ml_ship.store import Store
    from jupyter_ml_ship.store.db import MIGRATIONS

    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        conn.execute(text("INSERT INTO jobs (id, name, source_path, created_at, updated_at, "
                          "owner) VALUES (1, 'old', '', '2026-01-01', '2026-01-01', '')"))
        conn.execute(text("INSERT INTO versions (id, job_id, number, digest, message, author, "
                          "created_at, notebook_file, parameters, environment, "
                          "environment_source, config, source_path) VALUES (1, 1, 1, 'd', '', "
                          "'', '2026-01-01', 'nb', '[]', '', '', '{}', '')"))
        conn.execute(text("INSERT INTO runs (id, job_id, version_id, version_number, backend, "
                          "status, parameters, attempts, max_attempts, created_at, outputs, "
                          "run_dir, backend_ref, started_by) VALUES ('r1', 1, 1, 1, 'local', "
                          "'succeeded', '{}', 1, 1, '2026-01-01', '{}', '/x', '{}', '')"))
    engine.dispose()
    store = Store(url, tmp_path / "home")  # migrates to head
    with store.session() as s:
        run = s.get(Run, "r1")
        assert run is not None and run.health == "healthy" and run.checks is None
        assert s.get(Version, 1).reference_run_id is None
    store.close()
