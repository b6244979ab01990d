"""Senders of notifications: a mail over SMTP, a JSON post to a webhook.

Each raises ``DeliveryError`` with a message safe to store and show (no URL, no password);
``core.notify`` retries it with backoff and records it on the run.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid

from ..config import MlShip
from ._notify_message import Message, html_report, slack_payload

TIMEOUT = 10.0


class DeliveryError(Exception):
    """A delivery that did not go through; the message names no secret."""


def send_email(settings: MlShip, to: list[str], msg: Message) -> str:
    """Send one mail to ``to``; its Message-ID."""
    if not settings.smtp_host:
        raise DeliveryError("no SMTP server configured (MlShip.smtp_host / ML_SHIP_SMTP_HOST)")
    mail = EmailMessage()
    sender = settings.smtp_from or f"ml-ship@{socket.getfqdn() or 'localhost'}"
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = msg.subject
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail["X-ML-Ship-Run"] = msg.info.id
    body = msg.text
    if msg.report is not None:
        size = msg.report.stat().st_size if msg.report.exists() else 0
        html = None
        if 0 < size:
            try:
                html = html_report(msg.report, msg.subject)
            except Exception as exc:  # a broken notebook still gets its mail
                body += f"\n(The HTML report could not be made: {type(exc).__name__}.)\n"
        if html is not None and len(html.encode()) > settings.report_max_bytes:
            body += (f"\n(The HTML report is {len(html.encode())} bytes, over "
                     f"MlShip.report_max_bytes = {settings.report_max_bytes}: not attached.)\n")
            html = None
        mail.set_content(body)
        if html is not None:
            mail.add_attachment(html.encode(), maintype="text", subtype="html",
                                filename=f"{getattr(msg.info, 'job', 'pipeline')}-"
                                         f"{msg.info.id}.html")
    else:
        mail.set_content(body)
    port = settings.smtp_port or (465 if settings.smtp_tls else 587 if settings.smtp_starttls
                                  else 25)
    password = os.environ.get(settings.smtp_password_env, "") if settings.smtp_password_env else ""
    try:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.smtp_tls:
            smtp = smtplib.SMTP_SSL(settings.smtp_host, port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(settings.smtp_host, port, timeout=TIMEOUT)
        with smtp:
            if settings.smtp_starttls and not settings.smtp_tls:
                smtp.starttls(context=context)
            if settings.smtp_user:
                smtp.login(settings.smtp_user, password)
            refused = smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP {settings.smtp_host}:{port}: login as {settings.smtp_user} "
                            f"refused ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP {settings.smtp_host}:{port}: recipients refused: "
                            f"{', '.join(exc.recipients)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {settings.smtp_host}:{port}: "
                            f"{type(exc).__name__}: {_scrub(str(exc), password)}") from None
    if refused:
        raise DeliveryError(f"recipients refused: {', '.join(refused)}")
    return str(mail["Message-ID"])


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
