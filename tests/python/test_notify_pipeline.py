"""``notify:`` of a pipeline file, delivered to real receivers on 127.0.0.1 (an aiosmtpd SMTP
server, an HTTP webhook), once per pipeline run event even with two processes delivering."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.notifications import deliver_pending, wait_idle
from jupyter_ml_ship.errors import BadInput

from .notify_harness import MailBox, Receiver

TIMEOUT = 240

PIPELINE = """
name: nightly
parameters: {fail: true}
notify:
  on: [failed, succeeded, started]
  webhook: TEAM_HOOK
{extra}
steps:
  prep:
    notebook: prep.ipynb
  train:
    notebook: train.ipynb
    depends_on: [prep]
    parameters: {fail: "{{ params.fail }}"}
  report:
    notebook: report.ipynb
    depends_on: [train]
"""


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.stop()


def service(home: Path, **kw) -> ShipService:
    return ShipService(MlShip(home=str(home), freeze_environment=False, notify_backoff=0.05,
                              lab_url="http://lab.example/lab", **kw))


@pytest.fixture
def pipeline(nb, tmp_path):
    def write(extra: str = "") -> Path:
        nb("prep.ipynb", "print('prep')")
        nb("train.ipynb", "if fail:\n    raise RuntimeError('loss is nan')", params="fail = False")
        nb("report.ipynb", "print('report')")
        path = tmp_path / "work" / "nightly.pipeline.yaml"
        path.write_text(PIPELINE.replace("{extra}\n", extra + "\n" if extra else ""))
        return path

    return write


def run_pipeline(svc: ShipService, **params):
    info = svc.run_pipeline("nightly", parameters=params, detach=False)
    return svc.drive_pipeline_run(info.id, timeout=TIMEOUT)


def test_a_failing_pipeline_posts_one_webhook_naming_the_pipeline_and_the_step(
        home, pipeline, receiver, monkeypatch):
    monkeypatch.setenv("TEAM_HOOK", receiver.url)
    svc = service(home)
    svc.ship_pipeline(pipeline())
    info = run_pipeline(svc)
    assert info.status == "failed"
    # two processes (the server and an agent, say) deliver at the same time, several rounds
    other = service(home)
    barrier = threading.Barrier(2)

    def go(s: ShipService) -> None:
        barrier.wait()
        for _ in range(4):
            deliver_pending(s)
        wait_idle(s)

    threads = [threading.Thread(target=go, args=(s,)) for s in (svc, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(3):
        deliver_pending(svc, background=False)
    failed = [p for p in receiver.posts if p["ml_ship"]["event"] == "failed"]
    assert len(failed) == 1, receiver.posts
    assert sorted(p["ml_ship"]["event"] for p in receiver.posts) == ["failed", "started"]
    post = failed[0]
    assert post["text"].startswith(f"pipeline nightly v1 failed at step train (run {info.id})")
    assert f"http://lab.example/lab?ml-ship-pipeline-run={info.id}" in post["text"]
    body = post["ml_ship"]
    assert (body["pipeline"], body["pipeline_run_id"], body["status"]) == (
        "nightly", info.id, "failed")
    assert body["steps"] == {"prep": "succeeded", "train": "failed", "report": "skipped"}
    [step] = body["failed_steps"]
    assert step["step"] == "train" and step["job"] == "train"
    assert "loss is nan" in step["error"]["message"]
    fields = " ".join(f["text"] for f in post["blocks"][1]["fields"])
    assert "Step train" in fields and "RuntimeError" in fields
    assert "T0KEN-s3cret" not in str(svc.get_pipeline_run(info.id))
    # the pipeline run shows its deliveries (what its view lists), the secret's name only
    shown = svc.get_pipeline_run(info.id).notifications
    assert sorted((d.channel, d.event, d.status, d.target) for d in shown) == [
        ("webhook", "failed", "sent", "webhook TEAM_HOOK"),
        ("webhook", "started", "sent", "webhook TEAM_HOOK")]
    assert receiver.url not in str(shown)
    # a second run of the pipeline is a new event: told again, once
    again = run_pipeline(svc, fail=False)
    assert again.status == "succeeded"
    for _ in range(3):
        deliver_pending(svc, background=False)
    assert [p["ml_ship"]["event"] for p in receiver.posts
            if p["ml_ship"]["pipeline_run_id"] == again.id] in (
        ["started", "succeeded"], ["succeeded", "started"])
    assert len(receiver.posts) == 4
    svc.close()
    other.close()


def test_a_failing_pipeline_mails_the_failed_step_and_its_error(home, pipeline, monkeypatch,
                                                                receiver):
    monkeypatch.setenv("TEAM_HOOK", receiver.url)
    box = MailBox()
    try:
        svc = service(home, smtp_host="127.0.0.1", smtp_port=box.port,
                      smtp_from="ml-ship@example.com")
        extra = "  email: [oncall@example.com]"
        svc.ship_pipeline(pipeline(extra))
        info = run_pipeline(svc)
        for _ in range(3):
            deliver_pending(svc, background=False)
        mails = [m for m in box.messages if "failed" in m["Subject"]]
        assert len(mails) == 1
        assert " ".join(str(mails[0]["Subject"]).split()) == (  # unfolded, as a mail client shows
            f"[ml-ship] pipeline nightly v1 failed at step train (run {info.id})")
        body = mails[0].get_payload()
        assert "loss is nan" in body and "report skipped" in body
        svc.close()
    finally:
        box.stop()


def test_pipeline_notify_is_checked_at_ship_time(svc, pipeline, monkeypatch):
    monkeypatch.delenv("TEAM_HOOK", raising=False)
    with pytest.raises(BadInput, match=r"nightly.pipeline.yaml, line \d+: notify.webhook: "
                                       r"secret TEAM_HOOK is not set"):
        svc.ship_pipeline(pipeline())
