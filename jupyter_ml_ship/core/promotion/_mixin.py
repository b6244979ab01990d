"""``ShipService``'s side of gated promotion and automatic roll back: start a candidate's
validation run, decide when a run ends (``JobRunsMixin._finish``, every backend and the agent),
promote by hand, and tell the job's notify rules (``promoted``, ``rejected``, ``rolled_back``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from ...errors import Conflict
from ...models import VersionInfo
from ...notify_spec import notify_rules
from ...store import Event, Job, Run, Version
from ...store.schema import utcnow
from .._base import _ServiceBase
from ..access import Actor, whoami
from ..context import RunRequest
from ..environments import environment_version as pick_version
from ..notifications import add_deliveries
from .decide import verdict
from .rollback import plan_rollback
from .spec import promote_of, rollback_on_of
from .to_environment import after_gate, requested_environment
from .to_environment import promote as promote_to

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("jupyter_ml_ship.promotion")
#: who the audit trail names for what promotion decides by itself
VALIDATION_ACTOR = "validation"
ROLLBACK_ACTOR = "rollback_on"


class PromotionMixin(_ServiceBase):
    def environment_version(self, kind: str, name: str, env: str | None,
                            version: int | None = None) -> int | None:
        """The version a run of a job or pipeline (``kind``) asking for environment ``env``
        runs (no ``env``: ``version`` as given). An environment that is not configured, or has
        no version of it, is ``NotFound`` (404, like promote); a ``version`` that is not the
        environment's is ``Conflict`` (409)."""
        if env is None:
            return version
        env = requested_environment(self.settings.environments, env)
        with self.store.session() as s:
            found = pick_version(s, kind, name, env, list(self.settings.environments))
        if version is not None and version != found:
            raise Conflict(f"{kind} {name!r}: {env} is v{found}, not v{version}; name the "
                           "version or the environment, not both")
        return found

    # ---- a candidate's validation run ------------------------------------------------------

    def start_validation(self, job: str, number: int,
                         actor: Actor | None = None) -> Any:
        """Start the validation run of candidate ``job`` v``number`` (its ``promote.validate``
        parameters over the defaults, cells tagged ``test`` kept): its ``RunInfo``, or None
        when it could not start (the version stays a candidate and says why)."""
        svc = self
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
                                          f"`ml-ship promote {job} {number}` tries again, "
                                          "with --force it promotes it without")
            return None
        svc._audit(job, "validate", started.started_by,
                    {"version": number, "run_id": started.id})
        return started

    # ---- when a run ends ---------------------------------------------------------------------

    def after_run_ended(self, run_id: str) -> None:
        """Decide a candidate whose validation run this was, or roll back a current version
        whose last runs went bad. Never raises: a run's end must be recorded whatever happens."""
        svc = self
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
        svc = self
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
            after_gate(s, job, v, run_id, found.reason, list(svc.settings.environments),
                       VALIDATION_ACTOR)  # production, or the environment it was promoted to
            _tell(s, run_id, v.config, "promoted")
        return True

    def _maybe_roll_back(self, run_id: str) -> bool:
        svc = self
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
                actor: Actor | str | None = None, to: str | None = None) -> VersionInfo:
        """Point environment ``to`` (default production: make it the current version) at
        version ``number`` by hand (owners and admins, or ``MlShip.promote_groups``; audited
        ``promote``), through the job's gate when the version has not been through it
        (``to_environment``). Without ``force`` a rejected version, one still validating or one
        rolled back by ``rollback_on`` is refused (``Conflict``) with the reason."""
        return promote_to(self, name, number, force, actor, to)


def _tell(s: Session, run_id: str, config: dict[str, Any] | None, event: str) -> None:
    """Plan ``event`` for the job's notify rules that ask for it, on the run that decided it;
    sent by the next ``deliver_pending`` like the run's own events."""
    wanted: list[tuple[str, str, str]] = []
    for rule in notify_rules(config):
        if event in rule.on:
            wanted += rule.deliveries([event])
    if wanted:
        s.flush()
        add_deliveries(s, run_id, wanted, datetime.now(timezone.utc))
