"""Environments: named pointers of a job (or pipeline) to one of its versions, like MLflow aliases.

``MlShip.environments`` names them in promotion order (default ``staging``, ``production``).
**production is the current version** (``jobs.current_version``): every command, route and
screen that speaks of "current" speaks of production, and a roll back moves production. The
other environments are rows of ``environment_pointers``; a pointer older than its job (a job
deleted and shipped again under the same name) is not one.

``ml-ship promote JOB N --to ENV`` moves one pointer (``PromotionMixin.promote``): through the
job's promotion gate when it has one (``metadata.ml_ship.promote``: a version that has not passed
it gets its validation run, and moves when that run passes), audited (``promote`` with ``to``),
and in team mode only by who ``MlShip.promote_groups`` names for that environment (its owners
when it names none). A schedule runs production's version unless its notebook names another
environment (``metadata.ml_ship.schedule_environment``); ``ml-ship run JOB --env staging`` runs
staging's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import BadInput, Forbidden, NotFound
from ..store.schema import EnvironmentPointer, Job, Pipeline, utcnow
from .access import Actor, Ownership, check

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PRODUCTION = "production"
#: the notebook metadata key naming the environment a schedule runs
SCHEDULE_KEY = "schedule_environment"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def configured(names: Sequence[str]) -> list[str]:
    """``MlShip.environments`` checked: names like job names, production among them (added
    last when missing), no repeats."""
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise BadInput(f"MlShip.environments: {name!r} is not an environment name "
                           "(lower-case letters, digits and '-', starting with a letter)")
        if name not in out:
            out.append(name)
    return out if PRODUCTION in out else [*out, PRODUCTION]


def check_environment(names: Sequence[str], env: str | None, where: str) -> str:
    """``env`` when it is a configured environment (None: production), else ``BadInput``."""
    known = configured(names)
    env = PRODUCTION if env is None else env
    if env not in known:
        raise BadInput(f"{where}: no environment named {env!r} (environments: "
                       f"{', '.join(known)}; MlShip.environments)")
    return env


def schedule_environment(config: Mapping[str, Any] | None) -> str:
    """The environment a version's schedule runs (production unless it names one)."""
    value = (config or {}).get(SCHEDULE_KEY)
    return value if isinstance(value, str) and value else PRODUCTION


def check_schedule_environment(config: Mapping[str, Any], names: Sequence[str],
                               where: str) -> None:
    """``metadata.ml_ship.schedule_environment`` of a notebook being shipped."""
    if config.get(SCHEDULE_KEY) is None:
        return
    value = config[SCHEDULE_KEY]
    if not isinstance(value, str):
        raise BadInput(f"{where}metadata.ml_ship.{SCHEDULE_KEY}: an environment name is "
                       f"needed, got {value!r}")
    check_environment(names, value, f"{where}metadata.ml_ship.{SCHEDULE_KEY}")


def _owner_row(s: Session, kind: str, name: str) -> Job | Pipeline:
    row: Job | Pipeline | None = (
        s.scalars(select(Job).where(Job.name == name)).first() if kind == "job"
        else s.scalars(select(Pipeline).where(Pipeline.name == name)).first())
    if row is None:
        raise NotFound(f"no {kind} named {name!r}")
    return row


def _ordered(found: dict[str, int], names: Sequence[str] | None) -> dict[str, int]:
    order = configured(names) if names is not None else sorted(
        found, key=lambda env: (env == PRODUCTION, env))
    return {env: found[env] for env in order if env in found}


def pointers(s: Session, kind: str, row: Job | Pipeline,
             names: Sequence[str] | None = None) -> dict[str, int]:
    """{environment: version} of a job or pipeline row, in ``names`` order (None: every
    environment that has a pointer, production last); environments pointing nowhere are left
    out."""
    found = dict(s.execute(select(EnvironmentPointer.environment, EnvironmentPointer.version)
                           .where(EnvironmentPointer.kind == kind,
                                  EnvironmentPointer.name == row.name,
                                  EnvironmentPointer.updated_at >= row.created_at)).tuples().all())
    if row.current_version is not None:
        found[PRODUCTION] = row.current_version
    return _ordered(found, names)


def many_pointers(s: Session, kind: str, rows: Sequence[Job | Pipeline],
                  names: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
    """``pointers`` of many rows in one query (a listing), by name."""
    by_name = {r.name: r for r in rows}
    found: dict[str, dict[str, int]] = {r.name: {} for r in rows}
    if by_name:
        for name, env, version, at in s.execute(
                select(EnvironmentPointer.name, EnvironmentPointer.environment,
                       EnvironmentPointer.version, EnvironmentPointer.updated_at)
                .where(EnvironmentPointer.kind == kind,
                       EnvironmentPointer.name.in_(list(by_name)))).tuples():
            if at >= by_name[name].created_at:
                found[name][env] = version
    for name, row in by_name.items():
        if row.current_version is not None:
            found[name][PRODUCTION] = row.current_version
    return {name: _ordered(found[name], names) for name in by_name}


def environment_version(s: Session, kind: str, name: str, env: str,
                        names: Sequence[str]) -> int:
    """The version ``env`` of a job or pipeline points at, or ``NotFound`` saying it has none."""
    row = _owner_row(s, kind, name)
    version = pointers(s, kind, row, names).get(env)
    if version is None:
        raise NotFound(f"{kind} {name!r} has no version in {env} yet (`ml-ship promote "
                       f"{name} N --to {env}` puts one there)")
    return version


def set_pointer(s: Session, kind: str, name: str, env: str, version: int, actor: str,
                now: datetime | None = None) -> None:
    """Point ``env`` (not production: that is the current version) at ``version``."""
    assert env != PRODUCTION
    now = now or utcnow()
    row = s.scalars(select(EnvironmentPointer).where(
        EnvironmentPointer.kind == kind, EnvironmentPointer.name == name,
        EnvironmentPointer.environment == env)).first()
    if row is None:
        try:
            with s.begin_nested():
                s.add(EnvironmentPointer(kind=kind, name=name, environment=env, version=version,
                                         updated_at=now, updated_by=actor))
            return
        except IntegrityError:  # another process made it first: move it
            row = s.scalars(select(EnvironmentPointer).where(
                EnvironmentPointer.kind == kind, EnvironmentPointer.name == name,
                EnvironmentPointer.environment == env)).one()
    row.version, row.updated_at, row.updated_by = version, now, actor


def check_promote(actor: Actor | None, env: str, own: Ownership,
                  promote_groups: Mapping[str, Sequence[str]]) -> None:
    """Team mode: who may promote to ``env``: the members of its ``MlShip.promote_groups``
    (and admins) when it is listed there, otherwise the owners (``core.access``)."""
    groups = promote_groups.get(env)
    if actor is None or actor.admin or groups is None:
        check(actor, "promote", own)
        return
    if not actor.groups & set(groups):
        raise Forbidden(f"{actor.name} may not promote {own.kind} {own.name} to {env}: only "
                        f"members of {', '.join(groups) or 'no group'} or an ml-ship admin may "
                        "(MlShip.promote_groups)")


def scheduled_version(s: Session, name: str, config: Mapping[str, Any] | None,
                      current: int, kind: str = "job") -> tuple[int, str, str | None]:
    """(the version a job's or pipeline's schedule runs, its environment, why it runs nothing
    or None): the current version (production) unless ``schedule_environment`` (a job's
    ``metadata.ml_ship``, a pipeline file's top level) names another environment."""
    env = schedule_environment(config)
    if env == PRODUCTION:
        return current, env, None
    row: Job | Pipeline | None = (
        s.scalars(select(Job).where(Job.name == name)).first() if kind == "job"
        else s.scalars(select(Pipeline).where(Pipeline.name == name)).first())
    version = pointers(s, kind, row).get(env) if row is not None else None
    if version is None:
        key, promote = (f"metadata.ml_ship.{SCHEDULE_KEY}", "ml-ship promote") \
            if kind == "job" else (SCHEDULE_KEY, "ml-ship pipeline promote")
        return current, env, (f"{key} is {env}, and {env} has no version yet: nothing runs "
                              f"(`{promote} {name} N --to {env}`)")
    return version, env, None
