"""The Ship dialog's server side (#24 items 1 and 3) through a real Jupyter server (jp_fetch): the
project folder proposed and previewed, mail refused at ship without an SMTP server, and "Send a
test" reaching a real SMTP server (aiosmtpd) and a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.errors import BadInput

from .notify_harness import MailBox, Receiver
from .test_project_layout import make_layout
from .test_server import (  # noqa: F401 - fixtures
    Api,
    api,
    authorizer_class,
    error_of,
    js,
    ml_home,
)

NB = "loans/notebooks/train.ipynb"


@pytest.fixture
def mailbox() -> Iterator[MailBox]:
    box = MailBox()
    yield box
    box.stop()


@pytest.fixture
def smtp_host() -> str:
    """Override with ``@pytest.mark.parametrize("smtp_host", [""])``: no SMTP server."""
    return "127.0.0.1"


@pytest.fixture
def jp_server_config(ml_home: Path, mailbox: MailBox, smtp_host: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_ml_ship": True}},
        "MlShip": {"home": str(ml_home), "freeze_environment": False,
                   "reconcile_interval": 200, "smtp_host": smtp_host,
                   "smtp_port": mailbox.port, "smtp_from": "ml-ship@example.com"},
    }


async def test_the_preview_proposes_the_project_folder_and_previews_the_one_chosen(
        api: Api, jp_root_dir: Path) -> None:
    make_layout(jp_root_dir / "loans")
    own = js(await api("GET", "project", params={"path": NB}))
    assert own["root"] == "loans/notebooks" and own["files"] == 0
    assert own["proposed_root"] == ".." and own["proposed_folder"] == "loans"
    assert any("../data/loans.csv" in r for r in own["proposed_reasons"])
    chosen = js(await api("GET", "project", params={"path": NB, "root": ".."}))
    assert chosen["root"] == "loans" and chosen["files"] == 4
    assert chosen["proposed_root"] is None
    r = await api("GET", "project", params={"path": NB, "root": "../.."}, expect=200)
    assert js(r)["root"] == ""  # the server root itself: allowed, it holds the notebook
    r = await api("GET", "project", params={"path": NB, "root": "../../.."}, expect=None)
    assert r.code == 400 or js(r)["error"], r.body  # out of the server root: refused


async def test_send_a_test_reaches_the_smtp_server_and_the_webhook(
        api: Api, mailbox: MailBox, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = Receiver()
    try:
        monkeypatch.setenv("ML_SHIP_TEST_HOOK", hook.url)
        monkeypatch.delenv("ML_SHIP_UNSET_HOOK", raising=False)
        answer = js(await api("POST", "notify", "test", body={
            "email": ["oncall@example.com", "ds@example.com"],
            "webhook": ["ML_SHIP_TEST_HOOK", "ML_SHIP_UNSET_HOOK"], "job": "train"}))
        results = {(r["channel"], r["target"]): r for r in answer["results"]}
        assert results["email", "oncall@example.com, ds@example.com"]["sent"] is True
        assert results["webhook", "ML_SHIP_TEST_HOOK"]["sent"] is True
        unset = results["webhook", "ML_SHIP_UNSET_HOOK"]
        assert unset["sent"] is False and "ML_SHIP_UNSET_HOOK is not set" in unset["error"]
        assert len(mailbox.messages) == 1
        mail = mailbox.messages[0]
        assert mail["Subject"] == "[ml-ship] Test notification for train"
        assert mail["To"] == "oncall@example.com, ds@example.com"
        assert "the job's notifications reach you here" in mail.get_payload(decode=True).decode()
        assert [p["ml_ship"]["event"] for p in hook.posts] == ["test"]
        assert hook.url not in str(answer)  # the URL is a secret: never in an answer
        # bad targets: 400 naming the field, nothing sent
        r = await api("POST", "notify", "test", body={"email": ["not-an-address"]},
                      expect=400)
        assert error_of(r)[1].startswith("body.email"), error_of(r)
        r = await api("POST", "notify", "test", body={"webhook": ["https://hooks.x/T0"]},
                      expect=400)
        assert error_of(r)[1].startswith("body.webhook"), error_of(r)
        assert len(mailbox.messages) == 1
    finally:
        hook.stop()


@pytest.mark.parametrize("smtp_host", [""])
async def test_mail_is_refused_at_ship_and_in_a_test_without_an_smtp_server(
        api: Api, jp_root_dir: Path, mailbox: MailBox) -> None:
    make_layout(jp_root_dir / "loans")
    config = {"root": "..", "notify": {"on": ["failed"], "email": ["oncall@example.com"]}}
    r = await api("POST", "ship", body={"path": NB, "config": config}, expect=400)
    code, message = error_of(r)
    assert code == "bad_request"
    assert "train.ipynb: metadata.ml_ship.notify.email: no SMTP server is configured to send " \
           "mail to oncall@example.com" in message and "ML_SHIP_SMTP_HOST" in message
    assert js(await api("GET", "jobs"))["jobs"] == []  # nothing shipped
    result = js(await api("POST", "notify", "test", body={"email": ["oncall@example.com"]}))
    assert [(r["sent"], r["error"]) for r in result["results"]] == [
        (False, "no SMTP server configured (MlShip.smtp_host / ML_SHIP_SMTP_HOST)")]
    assert mailbox.messages == []


def test_the_service_refuses_mail_without_smtp_like_an_unset_webhook_secret(svc, tmp_path):
    nb = make_layout(tmp_path / "loans")
    with pytest.raises(BadInput, match=r"metadata\.ml_ship\.notify\.email: no SMTP server"):
        svc.ship(nb, config={"notify": {"email": ["oncall@example.com"]}})
    with pytest.raises(BadInput, match=r"notify\.webhook: secret NOT_SET_ANYWHERE is not set"):
        svc.ship(nb, config={"notify": {"webhook": ["NOT_SET_ANYWHERE"]}})
    svc.settings.smtp_host = "127.0.0.1"  # with a server: shipped
    assert svc.ship(nb, config={"notify": {"email": ["oncall@example.com"]}}).created


def test_a_pipeline_with_mail_is_refused_without_smtp(svc, tmp_path):
    from .conftest import make_notebook

    make_notebook(tmp_path / "p" / "step.ipynb", "print('hi')")
    spec = tmp_path / "p" / "nightly.pipeline.yaml"
    spec.write_text("name: nightly\nnotify:\n  email: [oncall@example.com]\n"
                    "steps:\n  one:\n    notebook: step.ipynb\n")
    with pytest.raises(BadInput, match=r"notify\.email: no SMTP server is configured"):
        svc.ship_pipeline(spec)
    assert svc.jobs() == []  # no step shipped either
