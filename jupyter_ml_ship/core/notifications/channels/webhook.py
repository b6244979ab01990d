"""The ``webhook`` channel: a Slack-compatible JSON post (``text`` + blocks + ``ml_ship``
facts) to the URL held by the named environment variable. Errors name the secret, never the
URL."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from ..channel import Channel, DeliveryError, Notice
from ..message import Message, slack_payload

if TYPE_CHECKING:
    from ...context import ShipContext

TIMEOUT = 10.0


class WebhookChannel(Channel):
    """``webhook: [SECRET_NAME, …]``: one post per secret."""

    name = "webhook"

    def send(self, ctx: ShipContext, target: str, notice: Notice) -> dict[str, Any]:
        assert notice.message is not None
        return {"http_status": post_webhook(target, notice.message)}

    def shown(self, target: str) -> str:
        return f"webhook {target}"  # the secret's name; the URL is never shown


def post_webhook(secret: str, msg: Message) -> int:
    """Post the Slack-compatible JSON to the URL in the environment variable ``secret``; the
    HTTP status. Errors name the secret, never the URL."""
    url = os.environ.get(secret)
    if not url:
        raise DeliveryError(f"webhook secret {secret} is not set in the environment of the service")
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"webhook secret {secret} does not hold an http(s) URL")
    data = json.dumps(slack_payload(msg)).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "jupyter-ml-ship"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 (http(s) only)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook {secret}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"webhook {secret}: {_scrub(str(exc.reason), url)}") from None
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"webhook {secret}: {type(exc).__name__}: "
                            f"{_scrub(str(exc), url)}") from None


def _scrub(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
