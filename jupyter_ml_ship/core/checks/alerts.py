"""Which notifications a run's health asks for: ``degraded`` (a succeeded run with a failed
check) and ``drift`` (one of them a drift check), planned by ``core.notifications`` with the run's
other events, so each is sent once per run and target."""

from __future__ import annotations

from typing import Any

from ...notify_spec import notify_rules


def health_events(config: dict[str, Any] | None, status: str, health: str | None,
                  checks: list[dict[str, Any]] | None) -> list[tuple[str, str, str]]:
    """(channel, target, event) of the job's rules for an ended run's health."""
    if status != "succeeded" or health != "degraded":
        return []
    drifted = any(not c.get("passed") and c.get("rule") == "drift" for c in checks or [])
    out: list[tuple[str, str, str]] = []
    for rule in notify_rules(config):
        events: list[str] = [e for e in ("degraded", "drift") if e in rule.on
                  and (e == "degraded" or drifted)]
        out += rule.deliveries(events)
    return out
