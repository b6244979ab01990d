"""Promotion to an environment (``ml-ship promote JOB N --to ENV``), by hand or once a version's
promotion gate passed.

- A version of a job with a gate (``metadata.ml_ship.promote``) that has not been through it
  (``candidate``) gets its validation run; the environment moves when that run passes (the
  verdict of ``decide``), and not at all when it is rejected.
- A version that passed it, or of a job with no gate, moves the pointer at once.
- A rejected version, one still validating or one rolled back by ``rollback_on`` is refused
  unless forced. Production is the current version: moving it is what ``promote`` always did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from ...cron import check_schedule
from ...errors import BadInput, Conflict, NotFound
from ...models import VersionInfo
from ...store import Event, Job, Run, Version
from ...store.schema import Pipeline, utcnow
from .. import convert
from ..access import Actor, Ownership, whoami
from ..engine.versions import version_row as pipeline_version_row
from ..environments import (
    PRODUCTION,
    check_environment,
    check_promote,
    configured,
    pointers,
    set_pointer,
)
from .spec import promote_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .._base import _ServiceBase


def requested_environment(names: Sequence[str], to: str | None) -> str:
    """The environment a request names (None: production). One that is not configured is a
    ``NotFound`` (404), like an unknown job: the request was well formed, its target is not
    there. (In a notebook's metadata the same name is bad input: ``check_environment``.)"""
    try:
        return check_environment(names, to, "to")
    except BadInput as exc:
        raise NotFound(str(exc)) from None


def promote(svc: _ServiceBase, name: str, number: int, force: bool = False,
            actor: Actor | str | None = None, to: str | None = None) -> VersionInfo:
    """Point environment ``to`` (default production, the current version) at version
    ``number``, through the job's gate when the version has not passed it (then the answer says
    ``validating`` and the run that decides). Audited ``promote``."""
    env = requested_environment(svc.settings.environments, to)
    who = svc._actor(None if isinstance(actor, str) else actor)
    name_of = who.name if who is not None else (actor if isinstance(actor, str) and actor
                                                else whoami())
    with svc.store.session() as s:
        v = svc._version(s, name, number)
        job = v.job
        check_promote(who, env, svc._ownership(s, job), svc.settings.promote_groups)
        if pointers(s, "job", job).get(env) == v.number:
            raise Conflict(f"{name} v{number} is already the current version"
                           if env == PRODUCTION else f"{name} v{number} is already in {env}")
        was, why = v.promotion, v.promotion_reason
        refused = {"rejected": f"{name} v{number} was rejected: {why}",
                   "validating": f"{name} v{number} is still being validated by run "
                                 f"{v.validation_run_id}"}.get(was or "")
        if refused is None and v.auto_rollback:
            refused = f"{name} v{number} was rolled back: {v.auto_rollback.get('reason')}"
        if refused and not force:
            raise Conflict(f"{refused}; promote it anyway with --force (REST: "
                           "{\"force\": true})")
        gated = not force and was == "candidate" and promote_of(v.config) is not None
        if gated:  # its validation run decides; the pointer moves when it passes
            v.promotion_target = env
            v.promotion_reason = f"its validation run decides whether it goes to {env}"
        else:
            previous = _move(s, job, v, env, name_of)
            if env == PRODUCTION:
                if v.validation_run_id and s.scalar(select(Run.status).where(
                        Run.id == v.validation_run_id)) == "succeeded":
                    v.reference_run_id = v.reference_run_id or v.validation_run_id
                v.promotion_reason = f"promoted by hand by {name_of}" + (
                    f" with --force ({refused})" if refused else "")[:4000]
                if was is not None or refused:
                    v.promotion = "promoted"
            s.add(Event(job_name=name, kind="promote", actor=name_of, data={
                "from": previous, "to": v.number, "environment": env,
                "forced": bool(refused and force), "was": was,
                **({"refused": refused} if refused else {})}))
            s.flush()
            return convert.version_info(v, job)
    started = svc.start_validation(name, number, who)
    if started is None:
        with svc.store.session() as s:
            reason = svc._version(s, name, number).promotion_reason
        raise Conflict(f"{name} v{number} cannot go to {env}: {reason}; --force promotes it "
                       "without its validation run")
    svc._audit(name, "promote-requested", name_of, {"version": number, "environment": env,
                                                    "run_id": started.id})
    return svc.version(name, number)


def _move(s: Session, job: Job, v: Version, env: str, actor: str) -> int | None:
    """Point ``env`` of ``job`` at ``v`` (production: the current version); where it was."""
    previous = pointers(s, "job", job).get(env)
    if env == PRODUCTION:
        check_schedule((v.config or {}).get("schedule"),
                       f"{job.name} v{v.number}: metadata.ml_ship.schedule")
        job.current_version, job.updated_at = v.number, utcnow()
    else:
        set_pointer(s, "job", job.name, env, v.number, actor)
        job.updated_at = utcnow()
    return previous


def after_gate(s: Session, job: Job, v: Version, run_id: str, reason: str,
               names: list[str], actor: str) -> None:
    """A candidate's validation run passed: move the environment it was promoted to (by hand,
    or ``promote.to``; production by default) and audit it."""
    spec = promote_of(v.config)
    target = v.promotion_target or (spec.to if spec else None) or PRODUCTION
    if target not in configured(names):
        target = PRODUCTION
    previous = pointers(s, "job", job).get(target)
    if target == PRODUCTION:
        job.current_version, job.updated_at = v.number, utcnow()
    else:
        set_pointer(s, "job", job.name, target, v.number, actor)
    v.promotion_target = None
    s.add(Event(job_name=job.name, kind="promote", actor=actor,
                data={"from": previous, "to": v.number, "environment": target,
                      "run_id": run_id, "reason": reason}))


def promote_pipeline(svc: _ServiceBase, name: str, number: int, to: str | None,
                     actor: Actor | str | None,
                     ownership: Callable[[Session, Pipeline], Ownership]) -> None:
    """Point environment ``to`` (default production: the pipeline's current version) of a
    pipeline at its version ``number`` (owners and admins, or ``MlShip.promote_groups``;
    audited ``pipeline-promote``). Pipelines have no promotion gate: their steps' jobs do."""
    env = requested_environment(svc.settings.environments, to)
    who = svc._actor(None if isinstance(actor, str) else actor)
    name_of = who.name if who is not None else (actor if isinstance(actor, str) and actor
                                                else whoami())
    with svc.store.session() as s:
        v = pipeline_version_row(s, name, number)
        pipe = v.pipeline
        check_promote(who, env, ownership(s, pipe), svc.settings.promote_groups)
        previous = pointers(s, "pipeline", pipe).get(env)
        if previous == v.number:
            raise Conflict(f"pipeline {name} v{number} is already "
                           + ("the current version" if env == PRODUCTION else f"in {env}"))
        if env == PRODUCTION:
            check_schedule((v.spec or {}).get("schedule"), f"pipeline {name} v{v.number}: "
                           "schedule")
            pipe.current_version = v.number
        else:
            set_pointer(s, "pipeline", name, env, v.number, name_of)
        pipe.updated_at = utcnow()
        s.add(Event(job_name=name, kind="pipeline-promote", actor=name_of,
                    data={"from": previous, "to": v.number, "environment": env}))
