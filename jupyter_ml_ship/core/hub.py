"""The acting user under JupyterHub (team mode): an ``Actor`` from the hub's user model.

A user's server knows its visitor from JupyterHub's OAuth (``current_user.hub_user``: name,
groups, the token's scopes); the ``ml-ship`` command line in that server's terminal acts as
the server's owner (``JUPYTERHUB_USER``), whose groups it reads from the hub's API with the
server's token. An ml-ship admin is in a group of ``MlShip.admin_groups`` or holds the scope
``MlShip.admin_scope`` (a JupyterHub custom scope granted through a role).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.request
from typing import Any

from ..config import MlShip
from .access import Actor

_CACHE: dict[str, tuple[float, Any]] = {}
_LOCK = threading.Lock()
#: seconds the hub's group list is reused
GROUPS_TTL = 30.0


def under_hub() -> bool:
    return bool(os.environ.get("JUPYTERHUB_USER") and os.environ.get("JUPYTERHUB_API_URL"))


def hub_api(path: str, timeout: float = 5.0) -> Any:
    """GET a JupyterHub REST path with this server's token (``JUPYTERHUB_API_TOKEN``)."""
    url = os.environ["JUPYTERHUB_API_URL"].rstrip("/") + path
    req = urllib.request.Request(url, headers={
        "Authorization": f"token {os.environ.get('JUPYTERHUB_API_TOKEN', '')}"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the hub's URL
        return json.loads(resp.read())


def hub_groups() -> frozenset[str] | None:
    """Every group of the hub, or None when this server may not list them (then owner groups
    are taken as written)."""
    if not under_hub():
        return None
    with _LOCK:
        hit = _CACHE.get("groups")
        if hit and time.monotonic() - hit[0] < GROUPS_TTL:
            return hit[1]
    try:
        names: frozenset[str] | None = frozenset(g["name"] for g in hub_api("/groups"))
    except Exception as exc:  # 403 without list:groups, the hub restarting: not known
        logging.getLogger("jupyter_ml_ship").warning(
            "ml-ship: cannot list the hub's groups (%s): owner groups are not checked", exc)
        names = None
    with _LOCK:
        _CACHE["groups"] = (time.monotonic(), names)
    return names


def actor_of(model: dict[str, Any], settings: MlShip,
             known_groups: frozenset[str] | None = None) -> Actor:
    """The actor of a hub user model (``name``, ``groups``, ``scopes``; ``admin`` when given)."""
    groups = frozenset(model.get("groups") or ())
    scopes = set(model.get("scopes") or ())
    admin = bool(groups & set(settings.admin_groups)) or settings.admin_scope in scopes
    return Actor(str(model["name"]), groups, admin, known_groups)


def cli_actor(settings: MlShip) -> Actor | None:
    """The command line in a hub user's server, in team mode: that user (groups from the hub;
    only the name when the hub does not answer)."""
    if not (settings.team_mode and under_hub()):
        return None
    name = os.environ["JUPYTERHUB_USER"]
    try:
        model = hub_api("/user")
    except Exception:
        model = {"name": name}
    if model.get("name") != name:  # a token that is not this user's: act as nobody else
        model = {"name": name}
    return actor_of(model, settings, hub_groups())
