"""``notify``: who hears about a job's (or a pipeline's) runs, and on which events.

Written in ``metadata.ml_ship.notify`` of a notebook or ``notify:`` of a pipeline file::

    notify:
      on: [failed, timed_out, degraded, {longer_than: 3600}]
      email: [oncall@example.com]
      webhook: SLACK_WEBHOOK_URL      # the NAME of an environment variable holding the URL

Without ``on``: failed, timed_out and degraded (a run that succeeded but failed one of its
``checks``). ``drift`` is a degraded run whose failing checks include a drift check;
``promoted``, ``rejected`` and ``rolled_back`` are a version's events. A list of such rules is
accepted too. Checked at ship time: unknown events, malformed
addresses, webhook secrets that are not valid names or not set in the service's environment.
The webhook URL itself is a secret: only its name is ever stored.

Every channel but ``email`` takes secret names the same way: a key of a rule is ``email``,
``webhook`` or the name of a channel another package registers (``core.notifications``: the
registry, and the entry point group ``jupyter_ml_ship.channels``, read here by name only).
"""

from __future__ import annotations

import os
import re
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .errors import BadInput

EVENTS = ("failed", "timed_out", "succeeded", "started", "longer_than", "degraded", "drift",
          "promoted", "rejected", "rolled_back")
#: what a rule with no ``on`` hears about
DEFAULT_EVENTS = ("failed", "timed_out", "degraded")
#: the run statuses that are events of their own (a terminal status)
STATUS_EVENTS = ("failed", "timed_out", "succeeded")
_SECRET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# deliberately plain: one @, no spaces or angle brackets, a dotted domain
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
#: rule keys of the channels registered beyond email and webhook (``add_channel_key``)
_CHANNEL_KEYS: set[str] = set()
#: the entry point group of channels (``core.notifications.registry.ENTRY_POINTS``)
CHANNEL_ENTRY_POINTS = "jupyter_ml_ship.channels"


def add_channel_key(name: str) -> None:
    """A registered channel's rule key (``core.notifications.registry`` calls it)."""
    if name not in ("email", "webhook", "on"):
        _CHANNEL_KEYS.add(name)


def remove_channel_key(name: str) -> None:
    _CHANNEL_KEYS.discard(name)


def channel_keys() -> list[str]:
    """The rule keys of the other channels: registered, or named by an entry point."""
    names = {ep.name for ep in entry_points(group=CHANNEL_ENTRY_POINTS)}
    return sorted((_CHANNEL_KEYS | names) - {"email", "webhook", "on"})


class NotifyRule(BaseModel):
    """One rule: the events and the targets told about them."""

    model_config = ConfigDict(extra="forbid")
    on: list[str] = Field(description="failed, timed_out, succeeded, started, longer_than, "
                          "degraded, drift, promoted, rejected, rolled_back")
    longer_than: float | None = Field(None, description="seconds, for the longer_than event")
    email: list[str] = []
    webhook: list[str] = Field([], description="names of environment variables holding URLs")
    #: the other channels' targets (secret names), by channel
    channels: dict[str, list[str]] = {}

    def deliveries(self, events: list[str]) -> list[tuple[str, str, str]]:
        """(channel, target, event) for each event: one mail to all its addresses, one post
        per webhook."""
        out: list[tuple[str, str, str]] = []
        for event in events:
            if self.email:
                out.append(("email", ",".join(self.email), event))
            out += [("webhook", name, event) for name in self.webhook]
            out += [(channel, name, event) for channel, names in self.channels.items()
                    for name in names]
        return out


def parse_notify(value: Any, where: str, check_env: bool = True) -> list[NotifyRule] | None:
    """The rules of a ``notify`` value, or ``BadInput`` saying what is wrong and where."""
    if value is None:
        return None
    raw_rules = value if isinstance(value, list) else [value]
    if not raw_rules:
        return None
    rules = []
    for i, raw in enumerate(raw_rules):
        at = f"{where}[{i}]" if isinstance(value, list) else where
        rules.append(_rule(raw, at, check_env))
    return rules


def _rule(raw: Any, where: str, check_env: bool) -> NotifyRule:
    if not isinstance(raw, dict):
        raise BadInput(f"{where}: a mapping with 'on' and 'email' and/or 'webhook'")
    raw = _yaml_on(raw)
    others = channel_keys()
    unknown = sorted(set(map(str, raw)) - {"on", "email", "webhook", *others})
    if unknown:
        allowed = ", ".join(sorted(["email", "on", "webhook", *others]))
        raise BadInput(f"{where}.{unknown[0]}: unknown key (allowed: {allowed})")
    on = raw.get("on", list(DEFAULT_EVENTS))
    on = on if isinstance(on, list) else [on]
    events: list[str] = []
    longer: float | None = None
    for item in on:
        if isinstance(item, dict) and list(item) == ["longer_than"]:
            try:
                longer = float(item["longer_than"])
            except (TypeError, ValueError):
                longer = -1.0
            if longer <= 0:
                raise BadInput(f"{where}.on.longer_than: a number of seconds > 0, got "
                               f"{item['longer_than']!r}")
            item = "longer_than"
        if item not in EVENTS or item == "longer_than" and longer is None:
            hint = " (write {longer_than: SECONDS})" if item == "longer_than" else ""
            raise BadInput(f"{where}.on: unknown event {item!r}{hint} (events: failed, timed_out, "
                           "succeeded, started, {longer_than: SECONDS}, degraded, drift, "
                           "promoted, rejected, rolled_back)")
        if item not in events:
            events.append(str(item))
    email = raw.get("email") or []
    email = email if isinstance(email, list) else [email]
    for address in email:
        if not isinstance(address, str) or not _ADDRESS.match(address):
            raise BadInput(f"{where}.email: {address!r} is not an email address")
    webhook = _secrets(raw, "webhook", where, check_env)
    channels = {key: _secrets(raw, key, where, check_env) for key in others if raw.get(key)}
    if not email and not webhook and not channels:
        raise BadInput(f"{where}: no target (give 'email' and/or 'webhook')")
    return NotifyRule(on=events, longer_than=longer, email=email, webhook=webhook,
                      channels=channels)


def _secrets(raw: dict[Any, Any], key: str, where: str, check_env: bool) -> list[str]:
    """The secret names under ``key`` (a webhook's, or another channel's)."""
    names = raw.get(key) or []
    names = names if isinstance(names, list) else [names]
    for name in names:
        if not isinstance(name, str) or not _SECRET.match(name):
            raise BadInput(f"{where}.{key}: {name!r} is not a secret name (the name of an "
                           "environment variable holding the URL, never the URL itself)")
        if check_env and name not in os.environ:
            raise BadInput(f"{where}.{key}: secret {name} is not set in the environment of "
                           "the service")
    return names


def check_mail_server(value: Any, where: str, smtp_host: str) -> None:
    """Refuse mail targets when the service has no SMTP server to send them through (like a
    webhook secret that is not set): ``BadInput`` naming the key and the setting."""
    if smtp_host or value is None:
        return
    rules = value if isinstance(value, list) else [value]
    for i, raw in enumerate(rules):
        email = raw.get("email") if isinstance(raw, dict) else None
        if email:
            at = f"{where}[{i}]" if isinstance(value, list) else where
            shown = ", ".join(map(str, email if isinstance(email, list) else [email]))
            raise BadInput(f"{at}.email: no SMTP server is configured to send mail to {shown} "
                           "(set MlShip.smtp_host or ML_SHIP_SMTP_HOST for the service, or "
                           "remove the addresses)")


def _yaml_on(raw: dict[Any, Any]) -> dict[Any, Any]:
    """YAML 1.1 (PyYAML) reads a bare ``on:`` key as ``True``: the ``on`` key it means."""
    if True in raw and "on" not in raw:
        return {("on" if k is True else k): v for k, v in raw.items()}
    return raw


def plain_notify(value: Any) -> Any:
    """A valid ``notify`` value as JSON can store it (``on``, never ``true``, as key)."""
    if isinstance(value, dict):
        return _yaml_on(value)
    if isinstance(value, list):
        return [_yaml_on(r) if isinstance(r, dict) else r for r in value]
    return value


def notify_rules(config: dict[str, Any] | None) -> list[NotifyRule]:
    """The rules stored in a version's config (already validated at ship time)."""
    value = (config or {}).get("notify")
    try:
        return parse_notify(value, "notify", check_env=False) or []
    except BadInput:
        return []  # shipped by a newer or older release: nothing we can honour
