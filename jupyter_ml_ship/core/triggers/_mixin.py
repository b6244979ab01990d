"""``ShipService``'s triggers: checked and kept at ship (a job's, a pipeline's), listed, a
webhook's new secret or revocation, and the webhook's entry (``POST /triggers/{token}``)."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ...errors import BadInput, NotFound, ShipError
from ...models.triggers import TriggerFired, TriggerInfo, TriggerToken
from ...store import Job
from ...store.schema import Pipeline, Trigger, TriggerFire
from .._base import _ServiceBase
from ._fire import now, record, start_run
from ._parse import TriggerSpec, find_cycle, matching_files, parse_triggers, token_hash

if TYPE_CHECKING:
    from ...pipelines.spec import PipelineSpec

TARGETS = ("job", "pipeline")
_MINUTE = timedelta(minutes=1)


class RateLimited(ShipError):
    code = "too_many_requests"
    http_status = 429


class TriggersMixin(_ServiceBase):
    """``ShipService``'s triggers: checked and kept at ship, listed, the webhook's entry."""

    def check_triggers(self, job: str, raw: Any, schema: list[dict[str, Any]],
                       where: str) -> list[TriggerSpec]:
        """The triggers of a notebook being shipped as ``job``, checked against its parameters
        and the store (upstreams exist, no cycle); ``BadInput`` naming the key otherwise."""
        specs = parse_triggers(raw, list(self.settings.environments), where)
        declared = {p["name"] for p in schema}
        for spec in specs:
            if spec.kind == "files" and spec.detail["parameter"] not in declared:
                raise BadInput(f"{where}.parameter: the notebook declares no parameter "
                               f"{spec.detail['parameter']!r} to receive the file's path (add "
                               "it to the cell tagged 'parameters')")
            if spec.kind == "after":
                self._check_upstream("job", job, spec.detail["upstream"], f"{where}.after")
        return specs

    def check_pipeline_triggers(self, spec: PipelineSpec,
                                steps: set[str] | None = None) -> list[TriggerSpec]:
        """A pipeline file's ``triggers:`` checked like a job's: a files trigger's parameter
        is one of the pipeline's ``parameters``; ``steps``: the jobs of its steps (an
        ``after:`` naming one would start the pipeline each time it runs)."""
        where = spec.where("triggers")
        specs = parse_triggers(spec.triggers, list(self.settings.environments), where,
                               "pipeline")
        for t in specs:
            if t.kind == "files" and t.detail["parameter"] not in spec.parameters:
                raise BadInput(f"{where}.parameter: the pipeline declares no parameter "
                               f"{t.detail['parameter']!r} to receive the file's path (add it "
                               f"to parameters: with a default, e.g. {t.detail['parameter']}: "
                               "'')")
            if t.kind == "after":
                own = sorted(set(t.detail["upstream"]) & (steps or set()))
                if own:
                    raise BadInput(f"{where}.after: {own[0]!r} is a step of this pipeline: "
                                   "each run would start the next")
                self._check_upstream("pipeline", spec.name, t.detail["upstream"],
                                     f"{where}.after")
        return specs

    def _check_upstream(self, target: str, name: str, upstream: list[str], where: str) -> None:
        with self.store.session() as s:
            jobs = set(s.scalars(select(Job.name).where(Job.name.in_(upstream))))
            pipes = set(s.scalars(select(Pipeline.name).where(Pipeline.name.in_(upstream))))
            edges: dict[str, list[str]] = {}
            for r in s.scalars(select(Trigger).where(Trigger.kind == "after")):
                if (r.target, r.name) != (target, name):
                    edges.setdefault(r.name, []).extend(r.detail.get("upstream") or [])
        for up in upstream:
            if up == name:
                raise BadInput(f"{where}: {name!r} cannot start after itself")
            if up not in jobs and up not in pipes:
                raise BadInput(f"{where}: no job or pipeline named {up!r} (ship it first)")
        edges.setdefault(name, []).extend(upstream)
        path = find_cycle(edges, name)
        if path:
            raise BadInput(f"{where}: a cycle: {' -> '.join(path)} (each starts the next)")

    def sync_triggers(self, name: str, specs: list[TriggerSpec], root: Path | None,
                      target: str = "job") -> str | None:
        """Make the job's (or pipeline's) triggers those of the version just shipped; the new
        webhook's token (shown once) when one was made."""
        token = None
        with self.store.session() as s:
            rows = {r.kind: r for r in s.scalars(select(Trigger).where(
                Trigger.target == target, Trigger.name == name))}
            for spec in specs:
                detail = dict(spec.detail)
                if spec.kind == "files":
                    detail["root"] = str(root or "")
                row = rows.pop(spec.kind, None)
                if row is None:
                    row = Trigger(target=target, name=name, kind=spec.kind, created_at=now())
                    s.add(row)
                    if spec.kind == "webhook":
                        token = secrets.token_urlsafe(32)
                        row.token_hash = token_hash(token)
                seen = spec.kind == "files" and (row.detail or {}) != detail
                row.detail, row.environment = detail, spec.environment
                if seen:  # what is there now is not new
                    known = set(s.scalars(select(TriggerFire.key).where(
                        TriggerFire.target == target, TriggerFire.name == name,
                        TriggerFire.kind == "files")))
                    for path in matching_files(detail["root"], detail["glob"]):
                        if path not in known:
                            s.add(TriggerFire(target=target, name=name, kind="files", key=path,
                                              fired_at=now()))
            for row in rows.values():
                s.delete(row)
        return token

    def triggers(self, job: str | None = None, target: str | None = None) -> list[TriggerInfo]:
        """Every trigger (or those of one name, of one target: ``job`` or ``pipeline``)."""
        with self.store.session() as s:
            query = select(Trigger).order_by(Trigger.name, Trigger.target, Trigger.kind)
            if job is not None:
                query = query.where(Trigger.name == job)
            if target is not None:
                query = query.where(Trigger.target == target)
            out = []
            for r in s.scalars(query):
                last = s.execute(select(TriggerFire.fired_at, TriggerFire.run_id).where(
                    TriggerFire.target == r.target, TriggerFire.name == r.name,
                    TriggerFire.kind == r.kind, TriggerFire.run_id.is_not(None))
                    .order_by(TriggerFire.fired_at.desc())).first()
                d = r.detail or {}
                detail = (d.get("glob", "") if r.kind == "files" else
                          ", ".join(d.get("upstream") or []) if r.kind == "after" else
                          "revoked" if r.revoked_at else "active")
                out.append(TriggerInfo(
                    job=r.name, target=r.target, kind=r.kind,  # type: ignore[arg-type]
                    detail=detail, environment=r.environment,
                    last_fired=last[0] if last else None,
                    last_run_id=last[1] if last else None, root=d.get("root"),
                    parameter=d.get("parameter"), revoked=r.revoked_at is not None))
        return out

    def _webhook(self, s: Any, name: str, target: str) -> Trigger:
        if target not in TARGETS:
            raise BadInput(f"target: 'job' or 'pipeline', got {target!r}")
        if target == "job":
            self._job(s, name)  # NotFound naming the job
        elif s.scalars(select(Pipeline.id).where(Pipeline.name == name)).first() is None:
            raise NotFound(f"no pipeline named {name!r}")
        row = s.scalars(select(Trigger).where(Trigger.target == target, Trigger.name == name,
                                              Trigger.kind == "webhook")).first()
        if row is None:
            where = "metadata.ml_ship.triggers" if target == "job" else "its file's triggers:"
            raise NotFound(f"{target} {name!r} has no webhook trigger ({where} "
                           '{"webhook": true})')
        return row

    def trigger_token(self, job: str, actor: Any = None, target: str = "job") -> TriggerToken:
        """A new secret for the webhook (the old one stops working); shown once."""
        token = secrets.token_urlsafe(32)
        with self.store.session() as s:
            row = self._webhook(s, job, target)
            row.token_hash, row.revoked_at = token_hash(token), None
        self._audit(job, "trigger", _who(self._actor(actor)),
                    {"webhook": "new token", "target": target})
        return TriggerToken(job=job, target=target,  # type: ignore[arg-type]
                            token=token, path=f"/ml-ship/api/triggers/{token}")

    def revoke_trigger(self, job: str, actor: Any = None, target: str = "job") -> TriggerInfo:
        """Revoke the webhook's token: its URL is a 404 from now on."""
        with self.store.session() as s:
            row = self._webhook(s, job, target)
            row.token_hash, row.revoked_at = None, now()
        self._audit(job, "trigger", _who(self._actor(actor)),
                    {"webhook": "revoked", "target": target})
        return next(t for t in self.triggers(job, target) if t.kind == "webhook")

    def fire_webhook(self, token: str, parameters: dict[str, Any] | None) -> TriggerFired:
        """Start the run (a pipeline's: its pipeline run) of the webhook whose token this is;
        ``NotFound`` (naming nothing) for an unknown or revoked token, ``RateLimited`` beyond
        the limit."""
        wanted = token_hash(token)
        with self.store.session() as s:
            row = s.scalars(select(Trigger).where(Trigger.kind == "webhook",
                                                  Trigger.token_hash == wanted)).first()
            if row is None or not hmac.compare_digest(row.token_hash or "", wanted):
                raise NotFound("no such trigger")
            target, name, env = row.target, row.name, row.environment
            limit = self.settings.trigger_rate_limit
            recent = s.scalar(select(func.count()).select_from(TriggerFire).where(
                TriggerFire.target == target, TriggerFire.name == name,
                TriggerFire.kind == "webhook",
                TriggerFire.fired_at > now() - _MINUTE)) or 0
            if recent >= limit:
                raise RateLimited(f"{target} {name!r}: its webhook started {recent} runs in the "
                                  f"last minute (limit {limit}, MlShip.trigger_rate_limit)")
        run_id, version = start_run(self, target, name, env, parameters,
                                    "trigger:webhook")
        record(self, target, name, "webhook", run_id, run_id)
        return TriggerFired(job=name, target=target,  # type: ignore[arg-type]
                            run_id=run_id, version=version, environment=env)


def _who(actor: Any) -> str:
    return str(getattr(actor, "name", "") or "")
