"""Who may do what in a shared workspace (team mode on JupyterHub).

A job (or pipeline) has an **owner**, who shipped its first version, and may name owner
**groups** (``metadata.ml_ship.owners``: JupyterHub group names). Everyone can read. Owners can
ship new versions, run, roll back, promote, cancel and delete; others can run only when the current
version says ``metadata.ml_ship.run_by: team``, and cancel the runs they started themselves. An
ml-ship **admin** can do everything.

Every mutating service call takes an ``actor``. ``None`` is single-user mode (the CLI outside a
hub, a plain Jupyter server): nothing is checked, exactly as before team mode existed.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import BadInput, Forbidden
from ..models import JobPermissions, Permission

Action = Literal["ship", "run", "rollback", "promote", "cancel", "delete"]
ACTIONS: tuple[Action, ...] = ("ship", "run", "rollback", "promote", "cancel", "delete")
#: run_by values: "owners" (the default) or "team"
RUN_BY = ("owners", "team")


@dataclass(frozen=True)
class Actor:
    """The user a call is made for: JupyterHub's name, groups and whether an ml-ship admin."""

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False
    #: every group of the hub, when the face could read them (to refuse unknown owner groups)
    known_groups: frozenset[str] | None = None

    @classmethod
    def of(cls, name: str, groups: Any = (), admin: bool = False,
           known_groups: Any = None) -> Actor:
        return cls(name, frozenset(groups or ()), admin,
                   frozenset(known_groups) if known_groups is not None else None)


@dataclass(frozen=True)
class Ownership:
    """What decides the permissions of one job or pipeline."""

    kind: str  # "job" or "pipeline"
    name: str
    owner: str
    groups: tuple[str, ...] = ()
    run_by: str = "owners"

    @classmethod
    def of(cls, kind: str, name: str, owner: str, config: dict[str, Any] | None) -> Ownership:
        config = config or {}
        return cls(kind, name, owner or "", tuple(owner_groups(config)),
                   str(config.get("run_by") or "owners"))

    def is_owner(self, actor: Actor) -> bool:
        return actor.name == self.owner or bool(actor.groups & set(self.groups))

    def who(self) -> str:
        names = [f"its owner {self.owner}" if self.owner else "its owner"]
        if self.groups:
            names.append(f"the group{'s' if len(self.groups) > 1 else ''} "
                         f"{', '.join(self.groups)}")
        return " or ".join(names)


def owner_groups(config: dict[str, Any]) -> list[str]:
    raw = config.get("owners") or []
    return [raw] if isinstance(raw, str) else [str(g) for g in raw]


def refusal(actor: Actor | None, action: Action, own: Ownership,
            started_by: str | None = None) -> str | None:
    """Why ``actor`` may not do ``action`` (None: allowed)."""
    if actor is None or actor.admin or own.is_owner(actor):
        return None
    if action == "run" and own.run_by == "team":
        return None
    if action == "cancel" and started_by and started_by == actor.name:
        return None  # one's own run
    what = f"{own.kind} {own.name}"
    if action == "run":
        where = "metadata.ml_ship.run_by" if own.kind == "job" else "pipeline file's run_by"
        return (f"{actor.name} may not run {what}: only {own.who()} may, unless its "
                f"{where} is 'team' (or an ml-ship admin)")
    verb = {"ship": "ship a new version of", "rollback": "roll back",
            "promote": "promote a version of", "cancel": "cancel runs of",
            "delete": "delete"}[action]
    return f"{actor.name} may not {verb} {what}: only {own.who()} or an ml-ship admin may"


def check(actor: Actor | None, action: Action, own: Ownership,
          started_by: str | None = None) -> None:
    reason = refusal(actor, action, own, started_by)
    if reason:
        raise Forbidden(reason)


def permissions(actor: Actor | None, own: Ownership) -> JobPermissions:
    """What ``actor`` may do with it, each with the reason when not (for the lab's buttons)."""
    values = {}
    for action in ACTIONS:
        reason = refusal(actor, action, own)
        values[action] = Permission(allowed=reason is None, reason=reason or "")
    return JobPermissions(**values)


def check_config(config: dict[str, Any], actor: Actor | None, where: str) -> None:
    """``metadata.ml_ship.owners`` and ``run_by`` of a notebook being shipped."""
    raw = config.get("owners")
    if raw is not None and not (isinstance(raw, str) or (
            isinstance(raw, list) and all(isinstance(g, str) and g for g in raw))):
        raise BadInput(f"{where}metadata.ml_ship.owners: a list of JupyterHub group names "
                       f"is needed, got {raw!r}")
    run_by = config.get("run_by")
    if run_by is not None and run_by not in RUN_BY:
        raise BadInput(f"{where}metadata.ml_ship.run_by: 'owners' or 'team', got {run_by!r}")
    if actor is not None and actor.known_groups is not None:
        unknown = [g for g in owner_groups(config) if g not in actor.known_groups]
        if unknown:
            raise BadInput(f"{where}metadata.ml_ship.owners: no JupyterHub group named "
                           f"{', '.join(map(repr, unknown))} (groups: "
                           f"{', '.join(sorted(actor.known_groups)) or 'none'})")


def whoami() -> str:
    """The OS user (or ``ML_SHIP_AUTHOR``): who acts when no actor is given."""
    try:
        return os.environ.get("ML_SHIP_AUTHOR") or getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return ""
