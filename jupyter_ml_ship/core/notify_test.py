""""Send a test": one real message to each notification target, through the channels of the
registry (the service's SMTP server, the webhook URL in the named environment variable), so that
a user knows before shipping that the alert will arrive. Nothing is stored; errors name no
secret."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

from ..models import NotifyTestRequest, NotifyTestResponse, NotifyTestResult, RunInfo
from ..notify_spec import parse_notify
from .notifications import DeliveryError, Message, Notice, channels

if TYPE_CHECKING:
    from .context import ShipContext


def _notice(job: str, who: str, lab_url: str) -> Notice:
    now = datetime.now(timezone.utc)
    info = RunInfo(id="test", job=job, version=0, backend="-", status="succeeded",
                   created_at=now)
    subject = f"[ml-ship] Test notification for {job}"
    fields = [("Job", job), ("Sent by", who or "-"), ("At", now.isoformat(timespec="seconds"))]
    text = (f"Test notification for {job}\n\nThis is a test sent from the Ship dialog"
            f"{f' by {who}' if who else ''}: the job's notifications reach you here.\n")
    message = Message(subject, text, fields, lab_url or None, info, "test",
                      payload={"event": "test", "job": job, "sent_by": who})
    return Notice(subject=subject, kind="test", event="test", message=message)


def send_test(ctx: ShipContext, request: NotifyTestRequest, who: str = "") -> NotifyTestResponse:
    """Send the test to every target of ``request`` (one mail to all the addresses, one post per
    webhook) and say how each went (mail with no SMTP server configured: not sent, and why).
    Bad targets (not an address, not a secret name) are ``BadInput``, before anything is sent."""
    if not request.email and not request.webhook:
        return NotifyTestResponse(results=[])  # nothing to test
    value = {"on": ["failed"], "email": request.email, "webhook": request.webhook}
    parse_notify(value, "notify", check_env=False)  # addresses and names, as at ship time
    notice = _notice(request.job or "a job", who, ctx.settings.lab_url)
    targets: list[tuple[Literal["email", "webhook"], str]] = []
    if request.email:
        targets.append(("email", ",".join(request.email)))
    targets += [("webhook", name) for name in request.webhook]
    results: list[NotifyTestResult] = []
    for channel, target in targets:
        shown = ", ".join(request.email) if channel == "email" else target
        try:
            channels.get(channel).send(ctx, target, notice)
            results.append(NotifyTestResult(channel=channel, target=shown, sent=True))
        except DeliveryError as exc:
            results.append(NotifyTestResult(channel=channel, target=shown, sent=False,
                                            error=str(exc)))
    return NotifyTestResponse(results=results)
