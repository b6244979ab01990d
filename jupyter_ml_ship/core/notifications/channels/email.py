"""The ``email`` channel: one mail over SMTP to all the addresses of a rule, with the output
notebook as an HTML report. ``DeliveryError`` messages name no password."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from ....config import MlShip
from ..channel import Channel, DeliveryError, Notice
from ..message import Message, html_report

if TYPE_CHECKING:
    from ...context import ShipContext

TIMEOUT = 10.0
__all__ = ["DeliveryError", "EmailChannel", "send_email"]


class EmailChannel(Channel):
    """``email: [a@example.com, …]``: the target is the addresses, comma separated."""

    name = "email"

    def send(self, ctx: ShipContext, target: str, notice: Notice) -> dict[str, Any]:
        assert notice.message is not None
        return {"message_id": send_email(ctx.settings, target.split(","), notice.message)}

    def shown(self, target: str) -> str:
        return target.replace(",", ", ")


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


def _scrub(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
