"""``ShipService``'s side of gated promotion and automatic roll back: start a candidate's
validation run, decide when a run ends (``JobRunsMixin._finish``, every backend and the agent),
promote by hand, and tell the job's notify rules (``promoted``, ``rejected``, ``rolled_back``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update

from ...errors import Conflict
from ...models import VersionInfo
from ...notify_spec import notify_rules
from ...store import Event, Job, Run, Version
from ...store.schema import utcnow
from .. import convert
from ..access import Actor, check, whoami
from ..context import RunRequest
from .decide import verdict
from .rollback import plan_rollback
from .spec import promote_of, rollback_on_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..service import ShipService

log = logging.getLogger("jupyter_ml_ship.promotion")
#: who the audit trail names for what promotion decides by itself
VALIDATION_ACTOR = "validation"
ROLLBACK_ACTOR = "rollback_on"


class PromotionMixin:
    # ---- a candidate's validation run ------------------------------------------------------

    def start_validation(self, job: str, number: int,
                         actor: Actor | None = None) -> Any:
        """Start the validation run of candidate ``job`` v``number`` (its ``promote.validate``
        parameters over the defaults, cells tagged ``test`` kept): its ``RunInfo``, or None
        when it could not start (the version stays a candidate and says why)."""
        svc = cast("ShipService", self)
        with svc.store.session() as s:
            config = svc._version(s, job, number).config
        spec = promote_of(config)
        try:
            for_agent = svc._hands_off()
            started = svc.start_runs([RunRequest(
                job, number, spec.parameters if spec else {}, None,
                started_by=actor.name if actor else whoami(), for_agent=for_agent,
                validation=True)])[0]
        except Exception as exc:  # no agent in team mode, say
            started = exc
        if isinstance(started, BaseException):
            reason = getattr(started, "message", None) or f"{type(started).__name__}: {started}"
            with svc.store.session() as s:
                v = svc._version(s, job, number)
                if v.promotion in ("candidate", "validating") and v.validation_run_id is None:
                    v.promotion = "candidate"
                    v.promotion_reason = (f"its validation run could not start: {reason}; "
                                          f"`ml-ship promote {job} {number}` promotes it by hand")
            return None
        svc._audit(job, "validate", started.started_by,
                    {"version": number, "run_id": started.id})
        return started

    # ---- when a run ends ---------------------------------------------------------------------

    def after_run_ended(self, run_id: str) -> None:
        """Decide a candidate whose validation run this was, or roll back a current version
        whose last runs went bad. Never raises: a run's end must be recorded whatever happens."""
        svc = cast("ShipService", self)
        try:
            with svc.store.session() as s:  # the common case: one light look, nothing to do
                found = s.execute(select(Version.validation_run_id, Version.promotion,
                                         Version.config)
                                  .join(Run, Run.version_id == Version.id)
                                  .where(Run.id == run_id)).first()
            if found is None:
                return
            validation_run, promotion, config = found
            if validation_run == run_id and promotion == "validating":
                svc._decide_candidate(run_id)
            elif rollback_on_of(config):
                svc._maybe_roll_back(run_id)
        except Exception:
            log.exception("ml-ship: promotion or rollback_on after run %s failed", run_id)

    def _decide_candidate(self, run_id: str) -> bool:
        svc = cast("ShipService", self)
        with svc.store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                return False
            v = run.version
            if v.validation_run_id != run_id or v.promotion != "validating":
                return False
            job = v.job
            current = None if job.current_version is None else s.scalars(select(Version).where(
                Version.job_id == job.id, Version.number == job.current_version)).first()
            spec = promote_of(v.config) or promote_of({"promote": True})
            assert spec is not None
            found = verdict(s, run, spec, current.id if current else None,
                            current.number if current else None)
            state = "promoted" if found.promoted else "rejected"
            won = getattr(s.execute(  # decided once, whichever process saw the run end first
                update(Version).where(Version.id == v.id, Version.promotion == "validating")
                .values(promotion=state, promotion_reason=found.reason,
                        **({"reference_run_id": run_id} if found.promoted else {}))
                .execution_options(synchronize_session="fetch")), "rowcount", 0)
            if won != 1:
                return False
            if not found.promoted:
                s.add(Event(job_name=job.name, kind="reject", actor=VALIDATION_ACTOR,
                            data={"version": v.number, "run_id": run_id,
                                  "reason": found.reason}))
                _tell(s, run_id, v.config, "rejected")
                return True
            previous = job.current_version
            job.current_version, job.updated_at = v.number, utcnow()
            s.add(Event(job_name=job.name, kind="promote", actor=VALIDATION_ACTOR,
                        data={"from": previous, "to": v.number, "run_id": run_id,
                              "reason": found.reason}))
            _tell(s, run_id, v.config, "promoted")
        return True

    def _maybe_roll_back(self, run_id: str) -> bool:
        svc = cast("ShipService", self)
        with svc.store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                return False
            v = run.version
            plan = plan_rollback(s, v, v.job.current_version)
            if plan is None:
                return False
            moved = getattr(s.execute(update(Job).where(  # once, whoever else saw it
                Job.id == v.job_id, Job.current_version == v.number).values(
                current_version=plan.to, updated_at=utcnow())), "rowcount", 0)
            if moved != 1:
                return False
            v.auto_rollback = {"at": datetime.now(timezone.utc).isoformat(), "to": plan.to,
                               "runs": plan.runs, "reason": plan.reason}
            s.add(Event(job_name=v.job.name, kind="auto-rollback", actor=ROLLBACK_ACTOR,
                        data={"from": v.number, "to": plan.to, "runs": plan.runs,
                              "reason": plan.reason}))
            _tell(s, run_id, v.config, "rolled_back")
        return True

    # ---- by hand -------------------------------------------------------------------------------

    def promote(self, name: str, number: int, force: bool = False,
                actor: Actor | str | None = None) -> VersionInfo:
        """Make version ``number`` current by hand (owners and admins; audited ``promote``).
        Without ``force`` a rejected version, one still validating or one rolled back by
        ``rollback_on`` is refused (``Conflict``) with the reason."""
        svc = cast("ShipService", self)
        from ...cron import check_schedule

        who = svc._actor(None if isinstance(actor, str) else actor)
        name_of = who.name if who is not None else (actor if isinstance(actor, str) and actor
                                                    else whoami())
        with svc.store.session() as s:
            v = svc._version(s, name, number)
            job = v.job
            check(who, "promote", svc._ownership(s, job))
            if job.current_version == v.number:
                raise Conflict(f"{name} v{number} is already the current version")
            was, why = v.promotion, v.promotion_reason
            refused = {"rejected": f"{name} v{number} was rejected: {why}",
                       "validating": f"{name} v{number} is still being validated by run "
                                     f"{v.validation_run_id}"}.get(was or "")
            if refused is None and v.auto_rollback:
                refused = f"{name} v{number} was rolled back: {v.auto_rollback.get('reason')}"
            if refused and not force:
                raise Conflict(f"{refused}; promote it anyway with --force (REST: "
                               "{\"force\": true})")
            check_schedule((v.config or {}).get("schedule"),
                           f"{name} v{v.number}: metadata.ml_ship.schedule")
            previous = job.current_version
            job.current_version, job.updated_at = v.number, utcnow()
            if v.validation_run_id and s.scalar(select(Run.status).where(
                    Run.id == v.validation_run_id)) == "succeeded":
                v.reference_run_id = v.reference_run_id or v.validation_run_id
            v.promotion_reason = f"promoted by hand by {name_of}" + (
                f" with --force ({refused})" if refused else "")[:4000]
            if was is not None or refused:
                v.promotion = "promoted"
            s.add(Event(job_name=name, kind="promote", actor=name_of, data={
                "from": previous, "to": v.number, "forced": bool(refused and force),
                "was": was, **({"refused": refused} if refused else {})}))
            s.flush()
            return convert.version_info(v, job)


def _tell(s: Session, run_id: str, config: dict[str, Any] | None, event: str) -> None:
    """Plan ``event`` for the job's notify rules that ask for it, on the run that decided it;
    sent by the next ``deliver_pending`` like the run's own events."""
    from ..notifications import add_deliveries

    wanted: list[tuple[str, str, str]] = []
    for rule in notify_rules(config):
        if event in rule.on:
            wanted += rule.deliveries([event])
    if wanted:
        s.flush()
        add_deliveries(s, run_id, wanted, datetime.now(timezone.utc))
