"""Notification channels beyond mail and webhook: one registered at run time through the
registry, one installed by another package through an entry point (a real dist-info on
sys.path). Each gets a real notification of a real run, posted to an HTTP receiver."""

from __future__ import annotations

import textwrap

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.notifications import Channel, Notice, channels, deliver_pending
from jupyter_ml_ship.errors import BadInput

from .notify_harness import Receiver

#: a whole channel, as another package would write it (posts a small JSON card)
PAGER = '''
import json
import os
import urllib.request

from jupyter_ml_ship.core.notifications import Channel, DeliveryError


class PagerChannel(Channel):
    name = "{name}"

    def send(self, ctx, target, notice):
        url = os.environ.get(target)
        if not url:
            raise DeliveryError(f"{name} secret {{target}} is not set")
        msg = notice.message
        body = json.dumps({{"summary": msg.subject, "event": notice.event,
                            "run": notice.subject, "link": msg.link}}).encode()
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={{"Content-Type": "application/json"}})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return {{"http_status": resp.status}}

    def shown(self, target):
        return f"{name} {{target}}"
'''


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.stop()


def service(home) -> ShipService:
    return ShipService(MlShip(home=str(home), freeze_environment=False, notify_backoff=0.05,
                              lab_url="http://lab.example/lab"))


def _ship_run_deliver(svc: ShipService, nb, name: str, key: str) -> str:
    svc.ship(nb(f"{name}.ipynb", "print('done')", metadata={"ml_ship": {
        "notify": {"on": ["succeeded"], key: "PAGER_KEY"}}}))
    run = svc.wait(svc.run(name).id, timeout=120)
    assert run.status == "succeeded"
    for _ in range(3):
        deliver_pending(svc, background=False)
    return run.id


def test_a_channel_registered_at_run_time_gets_a_real_notification(home, nb, receiver,
                                                                   monkeypatch):
    namespace: dict = {}
    exec(compile(PAGER.format(name="pager"), "pager_channel.py", "exec"), namespace)
    monkeypatch.setenv("PAGER_KEY", receiver.url)
    svc = service(home)
    with pytest.raises(BadInput, match="pager: unknown key"):  # not registered yet
        svc.ship(nb("early.ipynb", "1", metadata={"ml_ship": {
            "notify": {"on": ["failed"], "pager": "PAGER_KEY"}}}))
    channels.register("pager", namespace["PagerChannel"])
    try:
        run_id = _ship_run_deliver(svc, nb, "nightly", "pager")
        assert [(p["event"], p["run"]) for p in receiver.posts] == [("succeeded", run_id)]
        assert receiver.posts[0]["summary"] == f"[ml-ship] nightly v1 succeeded (run {run_id})"
        assert receiver.posts[0]["link"] == f"http://lab.example/lab?ml-ship-run={run_id}"
        shown = svc.get_run(run_id).model_dump(mode="json")["notifications"]
        assert [(n["channel"], n["target"], n["status"]) for n in shown] == [
            ("pager", "pager PAGER_KEY", "sent")]
        # like a webhook's, the target is a secret's name: a URL is refused at ship
        with pytest.raises(BadInput, match="is not a secret name"):
            svc.ship(nb("bad.ipynb", "1", metadata={"ml_ship": {
                "notify": {"pager": "https://events.example/x"}}}))
    finally:
        channels.unregister("pager")
        svc.close()


def test_a_channel_installed_through_an_entry_point_gets_a_real_notification(
        home, nb, receiver, monkeypatch, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "shipmate_pager.py").write_text(textwrap.dedent(PAGER.format(name="shipmate")))
    info = site / "shipmate_pager-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shipmate-pager\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[jupyter_ml_ship.channels]\nshipmate = shipmate_pager:PagerChannel\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PAGER_KEY", receiver.url)
    svc = service(home)
    try:
        run_id = _ship_run_deliver(svc, nb, "weekly", "shipmate")
        assert [(p["event"], p["run"]) for p in receiver.posts] == [("succeeded", run_id)]
        assert receiver.posts[0]["summary"] == f"[ml-ship] weekly v1 succeeded (run {run_id})"
        assert issubclass(type(channels.get("shipmate")), Channel)
        shown = svc.get_run(run_id).notifications
        assert [(n.channel, n.target, n.status) for n in shown] == [
            ("shipmate", "shipmate PAGER_KEY", "sent")]
    finally:
        channels.unregister("shipmate")
        svc.close()


def test_the_built_in_channels_are_one_module_each():
    assert {"email", "webhook", "mlflow"} <= set(channels.names())
    assert Notice(subject="r", kind="run", event="failed").message is None
