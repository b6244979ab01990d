"""Notifications with real receivers on 127.0.0.1: an aiosmtpd SMTP server, an HTTP webhook."""

from __future__ import annotations

import threading

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.notifications import deliver_pending, wait_idle
from jupyter_ml_ship.errors import BadInput

from .notify_harness import MailBox, Receiver, until

FAILING = ("x = 1", "print('about to divide')", "1 / 0")


@pytest.fixture
def mailbox():
    box = MailBox()
    yield box
    box.stop()


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.stop()


def service(home, **kw) -> ShipService:
    return ShipService(MlShip(home=str(home), freeze_environment=False, notify_backoff=0.05,
                              lab_url="http://lab.example/lab", **kw))


def deliver_all(svc: ShipService, rounds: int = 3) -> None:
    for _ in range(rounds):
        deliver_pending(svc, background=False)


def test_failed_run_mails_once_with_the_error_and_the_report(home, nb, mailbox):
    svc = service(home, smtp_host="127.0.0.1", smtp_port=mailbox.port,
                  smtp_from="ml-ship@example.com")
    path = nb("nightly.ipynb", *FAILING[1:], params=FAILING[0], metadata={"ml_ship": {
        "notify": {"on": ["failed"], "email": ["oncall@example.com", "ds@example.com"]}}})
    svc.ship(path)
    run = svc.wait(svc.run("nightly", parameters={"x": 2}).id, timeout=120)
    assert run.status == "failed"
    deliver_all(svc)
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert sorted(mailbox.envelopes[0].rcpt_tos) == ["ds@example.com", "oncall@example.com"]
    assert mail["Subject"] == f"[ml-ship] nightly v1 failed (run {run.id})"
    body = mail.get_payload()[0].get_payload(decode=True).decode()
    assert "ZeroDivisionError" in body and "division by zero" in body
    assert "about to divide" in body  # the last log lines
    assert f"http://lab.example/lab?ml-ship-run={run.id}" in body
    assert "Parameters: x=2" in body
    report = mail.get_payload()[1]
    assert report.get_filename() == f"nightly-{run.id}.html"
    assert b"ZeroDivisionError" in report.get_payload(decode=True)
    shown = svc.get_run(run.id).notifications
    assert [(n.channel, n.event, n.status, n.attempts) for n in shown] == [
        ("email", "failed", "sent", 1)]
    svc.close()


def test_webhook_gets_slack_json_and_the_url_stays_secret(home, nb, receiver, monkeypatch,
                                                          caplog):
    monkeypatch.setenv("TEAM_HOOK", receiver.url)
    svc = service(home)
    path = nb("train.ipynb", "from jupyter_ml_ship import record", "record('accuracy', 0.93)",
              metadata={"ml_ship": {"notify": {"on": ["succeeded", "started"],
                                               "webhook": "TEAM_HOOK"}}})
    svc.ship(path)
    run = svc.wait(svc.run("train").id, timeout=120)
    assert run.status == "succeeded"
    deliver_all(svc)
    assert sorted(p["ml_ship"]["event"] for p in receiver.posts) == ["started", "succeeded"]
    post = next(p for p in receiver.posts if p["ml_ship"]["event"] == "succeeded")
    assert post["text"].startswith(f"train v1 succeeded (run {run.id})")
    assert "Open run" in post["text"] and post["ml_ship"]["outputs"] == {"accuracy": 0.93}
    assert any(f["text"].startswith("*Outputs*") for f in post["blocks"][1]["fields"])
    info = svc.get_run(run.id)
    assert {(n.target, n.status) for n in info.notifications} == {("webhook TEAM_HOOK", "sent")}
    svc.close()
    # the URL (a secret) is nowhere: not in the store, the run's files, the logs, the API
    assert "T0KEN-s3cret" not in info.model_dump_json()
    for f in home.rglob("*"):
        if f.is_file():
            assert b"T0KEN-s3cret" not in f.read_bytes(), f
    assert "T0KEN-s3cret" not in caplog.text


def test_a_receiver_failing_twice_then_succeeding_gets_it_once(home, nb, monkeypatch):
    rec = Receiver(fail=2)
    monkeypatch.setenv("TEAM_HOOK", rec.url)
    try:
        svc = service(home)
        svc.ship(nb("flaky.ipynb", "1 / 0", metadata={"ml_ship": {
            "notify": {"on": ["failed"], "webhook": "TEAM_HOOK"}}}))
        run = svc.wait(svc.run("flaky").id, timeout=120)
        deliver_pending(svc, background=False)
        first = svc.get_run(run.id).notifications[0]
        assert (first.status, first.attempts) == ("pending", 1)
        assert first.error == "webhook TEAM_HOOK: HTTP 500 Internal Server Error"
        assert first.next_attempt_at is not None
        until(lambda: (deliver_pending(svc, background=False), rec.posts)[1], timeout=20)
        deliver_all(svc)
        assert rec.attempts == 3 and len(rec.posts) == 1
        done = svc.get_run(run.id).notifications[0]
        assert (done.status, done.attempts, done.error) == ("sent", 3, None)
        svc.close()
    finally:
        rec.stop()


def test_a_delivery_that_keeps_failing_shows_on_the_run(home, nb, monkeypatch):
    rec = Receiver(fail=100)
    monkeypatch.setenv("TEAM_HOOK", rec.url)
    try:
        svc = service(home, notify_attempts=2)
        svc.ship(nb("down.ipynb", "1 / 0", metadata={"ml_ship": {
            "notify": {"on": ["failed"], "webhook": "TEAM_HOOK"}}}))
        run = svc.wait(svc.run("down").id, timeout=120)
        until(lambda: (deliver_pending(svc, background=False),
                       svc.get_run(run.id).notifications[0].status == "failed")[1], timeout=20)
        n = svc.get_run(run.id).notifications[0]
        assert n.attempts == 2 and "HTTP 500" in (n.error or "")
        assert "T0KEN" not in (n.error or "")
        deliver_all(svc)
        assert rec.attempts == 2  # given up: no more posts
        svc.close()
    finally:
        rec.stop()


def test_a_restart_between_run_end_and_delivery_still_delivers_once(home, nb, receiver,
                                                                    monkeypatch):
    monkeypatch.setenv("TEAM_HOOK", receiver.url)
    first = service(home)
    first.ship(nb("job.ipynb", "1 / 0", metadata={"ml_ship": {
        "notify": {"on": ["failed"], "webhook": "TEAM_HOOK"}}}))
    run = first.wait(first.run("job").id, timeout=120)
    assert run.status == "failed"
    first.close()  # the server stopped before it delivered anything
    # two processes come up at once (the server and an agent, say) and both deliver
    services = [service(home), service(home)]
    barrier = threading.Barrier(2)

    def go(svc: ShipService) -> None:
        barrier.wait()
        for _ in range(5):
            deliver_pending(svc)
        wait_idle(svc)

    threads = [threading.Thread(target=go, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in services:
        deliver_all(s)
    assert len(receiver.posts) == 1 and receiver.attempts == 1
    assert receiver.posts[0]["ml_ship"]["run_id"] == run.id
    for s in services:
        s.close()


def test_runs_that_ended_before_the_upgrade_are_not_notified(home, nb, receiver, monkeypatch):
    monkeypatch.setenv("TEAM_HOOK", receiver.url)
    svc = service(home, notify_max_age=0.001)
    svc.ship(nb("old.ipynb", "1 / 0", metadata={"ml_ship": {
        "notify": {"on": ["failed"], "webhook": "TEAM_HOOK"}}}))
    run = svc.wait(svc.run("old").id, timeout=120)
    deliver_all(svc)
    assert receiver.posts == [] and svc.get_run(run.id).notifications == []
    svc.close()


@pytest.mark.parametrize(("notify", "message"), [
    ({"on": ["failure"], "email": ["a@example.com"]}, "notify.on: unknown event 'failure'"),
    ({"on": ["failed"], "email": ["not-an-address"]}, "'not-an-address' is not an email address"),
    ({"on": ["failed"], "webhook": "NOT_SET_ANYWHERE"},
     "secret NOT_SET_ANYWHERE is not set in the environment"),
    ({"on": ["failed"], "webhook": "https://hooks.slack.com/x"}, "is not a secret name"),
    ({"on": [{"longer_than": -5}], "email": ["a@example.com"]}, "a number of seconds > 0"),
    ({"on": ["failed"]}, "no target"),
])
def test_notify_is_checked_at_ship_time(svc, nb, notify, message):
    path = nb("bad.ipynb", "print(1)", metadata={"ml_ship": {"notify": notify}})
    with pytest.raises(BadInput, match="metadata.ml_ship.notify") as exc:
        svc.ship(path)
    assert message in exc.value.message


def test_longer_than_fires_while_the_run_is_still_going(home, nb, receiver, monkeypatch):
    monkeypatch.setenv("TEAM_HOOK", receiver.url)
    svc = service(home)
    svc.ship(nb("slow.ipynb", "import time; time.sleep(4)", metadata={"ml_ship": {
        "notify": {"on": [{"longer_than": 1}], "webhook": "TEAM_HOOK"}}}))
    run_id = svc.run("slow").id
    until(lambda: svc.get_run(run_id).status == "running", timeout=60)
    until(lambda: (deliver_pending(svc, background=False), receiver.posts)[1], timeout=30)
    assert svc.get_run(run_id).status == "running"
    assert "still running after 1.0 s" in receiver.posts[0]["text"]
    svc.wait(run_id, timeout=60)
    deliver_all(svc)
    assert len(receiver.posts) == 1
    svc.close()
