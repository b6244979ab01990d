"""GET /jobs/{name}/history's body written by SQLite (core.history) is the JSON of the
RunHistory that _built makes in Python (other databases): every field of every kind of run, the columns, the limit, the
status filter; a mapping SQLite cannot read (NaN) takes pydantic's path."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from jupyter_ml_ship.core.history import _built, run_history_json
from jupyter_ml_ship.store import Job, Run, Version

from .conftest import make_notebook

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def seed(svc, tmp_path) -> None:
    svc.ship(make_notebook(tmp_path / "train.ipynb", "print(1)", params="lr = 0.1"))
    kinds = [  # status, started, ended (seconds after created), error, outputs, health, step
        ("succeeded", 0, 30.5, None, {"accuracy": 0.87, "model": "gbm"}, "healthy", None),
        ("failed", 1, 2.000001, {"ename": "ZeroDivisionError", "evalue": "x"}, {}, None, None),
        ("failed", 1, 2, {"message": "lost its container"}, None, "healthy", "prep"),
        ("succeeded", 0, 0, None, {"accuracy": 1, "é": "ü"}, "degraded", None),
        ("cancelled", 0, None, None, {}, "healthy", None),  # terminal, no end: no duration
        ("queued", None, None, None, {}, "healthy", None),
        ("succeeded", 0.25, 60, {}, {"rows": 10, "accuracy": True}, "healthy", None),
    ]
    with svc.store.session() as s:
        j = s.query(Job).filter_by(name="train").one()
        v = s.query(Version).filter_by(job_id=j.id).one()
        for i, (status, start, end, error, outputs, health, step) in enumerate(kinds):
            at = T0 + timedelta(minutes=i)
            s.add(Run(id=f"r{i:03d}", job_id=j.id, version_id=v.id, version_number=1,
                      backend="local", status=status, parameters={"lr": i / 10} if i else None,
                      attempts=1, max_attempts=1, created_at=at,
                      started_at=None if start is None else at + timedelta(seconds=start),
                      ended_at=None if end is None else at + timedelta(seconds=end),
                      error=error, outputs=outputs, health=health, step=step,
                      run_dir="x", backend_ref={}))


def pydantic_json(svc, limit=5000, status=None):
    h = _built(svc, "train", limit)
    if status:
        h.runs = [r for r in h.runs if r.status == status]
    return json.loads(h.model_dump_json())


def test_store_written_history_is_run_historys_json(svc, tmp_path):
    seed(svc, tmp_path)
    got = json.loads(run_history_json(svc, "train"))
    assert got == pydantic_json(svc)
    assert [r["duration"] for r in got["runs"]] == [59.75, None, None, 0.0, 1.0, 1.000001, 30.5]
    assert got["runs"][-1]["created_at"] == "2026-03-01T12:00:00Z"
    assert got["runs"][1]["error"] is None and got["runs"][5]["error"] == "ZeroDivisionError"
    assert got["runs"][4]["error"] == "lost its container"
    assert got["outputs"] == [{"name": "accuracy", "numeric": False},
                              {"name": "model", "numeric": False},
                              {"name": "rows", "numeric": True}, {"name": "é", "numeric": False}]
    for limit, status in ((3, None), (7, None), (5000, "failed"), (3, "failed"), (1, "queued")):
        got = json.loads(run_history_json(svc, "train", limit, status))
        assert got == pydantic_json(svc, limit, status), (limit, status)
    assert json.loads(run_history_json(svc, "train", 3))["truncated"] is True


def test_a_running_run_lasts_until_now_and_nan_takes_pydantics_path(svc, tmp_path):
    seed(svc, tmp_path)
    with svc.store.session() as s:
        run = s.get(Run, "r005")
        run.status, run.started_at = "running", datetime.now(timezone.utc) - timedelta(hours=1)
    got = json.loads(run_history_json(svc, "train"))
    assert 3600 <= got["runs"][1]["duration"] < 3700
    with svc.store.session() as s:
        s.get(Run, "r000").outputs = {"loss": float("nan")}
    body = run_history_json(svc, "train")
    assert json.loads(body)["runs"][-1]["outputs"] == {"loss": None}  # as pydantic writes NaN


def test_the_body_is_kept_while_the_store_is_unchanged_and_a_write_is_seen(svc, tmp_path):
    """The lab asks again on every run event: an unchanged store answers the body it gave; a
    run whose record changed (here: its outputs) shows the change at the next ask."""
    seed(svc, tmp_path)
    first = run_history_json(svc, "train", 1)  # the newest run only: none active
    assert run_history_json(svc, "train", 1) is first
    with svc.store.session() as s:
        s.get(Run, "r006").outputs = {"rows": 11}
    fresh = json.loads(run_history_json(svc, "train", 1))
    assert fresh["runs"][0]["outputs"] == {"rows": 11}
    assert fresh == pydantic_json(svc, 1)


def test_a_body_with_an_active_run_is_made_anew(svc, tmp_path):
    """A queued or running run's duration grows: such a body is never kept."""
    seed(svc, tmp_path)  # r005 is queued
    assert run_history_json(svc, "train") is not run_history_json(svc, "train")


def test_after_each_write_the_remembered_rows_give_the_store_as_it_is_now(svc, tmp_path):
    """Finished runs' rows are remembered under their stored columns: after each kind of write
    (health, outputs with a new name, a run added, one deleted, a running run ending) the body is
    the store's as it is now, filtered or not."""
    seed(svc, tmp_path)
    with svc.store.session() as s:
        j = s.query(Job).filter_by(name="train").one()
        v = s.query(Version).filter_by(job_id=j.id).one()

    def same() -> None:
        for status in (None, "succeeded", "failed"):
            got = json.loads(run_history_json(svc, "train", 5000, status))
            want = pydantic_json(svc, 5000, status)
            for body in (got, want):  # a running run lasts until now: the two nows differ
                for run in body["runs"]:
                    if run["status"] == "running":
                        assert run.pop("duration") > 3600 * 24
            assert got == want, status

    same()
    writes = [
        lambda s: setattr(s.get(Run, "r003"), "health", "healthy"),
        lambda s: setattr(s.get(Run, "r000"), "outputs", {"accuracy": 0.9, "auc": 0.7}),
        lambda s: s.add(Run(id="r100", job_id=j.id, version_id=v.id, version_number=1,
                            backend="local", status="running", parameters={"lr": "fast"},
                            attempts=1, max_attempts=1, created_at=T0, started_at=T0,
                            run_dir="x", backend_ref={})),
        lambda s: s.delete(s.get(Run, "r001")),
        lambda s: [setattr(s.get(Run, "r100"), k, val) for k, val in
                   (("status", "succeeded"), ("ended_at", T0 + timedelta(seconds=3)))],
    ]
    for write in writes:
        with svc.store.session() as s:
            write(s)
        same()
    got = json.loads(run_history_json(svc, "train"))
    assert got["runs"][0]["id"] == "r100" and got["runs"][0]["duration"] == 3.0
    assert {"name": "lr", "numeric": False} in got["parameters"]
    assert {"name": "auc", "numeric": True} in got["outputs"]
    assert "r001" not in {r["id"] for r in got["runs"]}
