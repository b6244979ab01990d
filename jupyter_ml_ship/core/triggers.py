"""Runs started by events: ``metadata.ml_ship.triggers`` (issue #23).

A job's notebook says what starts it, one entry per kind (a dict, or a list of dicts)::

    {"webhook": true}                      a secret URL: POST /ml-ship/api/triggers/{token}
    {"files": "data/incoming/*.csv"}       one run per new file matching the glob
    {"after": ["prepare-data"]}            a run each time that job or pipeline succeeds

each with an optional ``"environment"`` (the environment whose version runs; production unless
said) and, for files, ``"parameter"`` (the notebook's parameter given the file's absolute path;
``trigger_file`` unless said; the notebook must declare it).

- **webhook**: the token is made when the trigger is first shipped, shown once (the ship's
  ``trigger_token``; ``ml-ship triggers token JOB`` makes a new one), kept as its SHA-256
  only, compared in constant time, revocable (``ml-ship triggers revoke JOB``), rate-limited
  (``MlShip.trigger_rate_limit`` runs a minute per job: 429 beyond). An unknown or revoked
  token is a 404 naming nothing.
- **files**: the glob is relative to the project folder the job was shipped from (the server's
  side); absolute globs and ``..`` are refused, files leading out of that folder (links) are
  ignored. The files already there when the trigger is shipped are not new. Each new file
  starts one run, recorded in the store (``trigger_fires``) before it starts: never twice,
  across restarts and processes. Watched by the periodic work (the tick: the agent holding the
  lease, or the Jupyter server when no agent runs).
- **after**: each success of an upstream job (seen when its run ends, and by the tick) or
  pipeline (by the tick) starts one run. Upstreams must exist; a cycle is refused at ship.

A trigger's runs are started by ``trigger:<kind>`` (``started_by``).
"""

from __future__ import annotations

import glob as globlib
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import BadInput, NotFound, ShipError
from ..models import RunInfo
from ..models.triggers import TriggerFired, TriggerInfo, TriggerToken
from ..naming import check_name
from ..store import Job, Run
from ..store.schema import Pipeline, PipelineRun, Trigger, TriggerFire
from ._base import _ServiceBase
from .environments import environment_version

if TYPE_CHECKING:
    from .context import ShipContext

log = logging.getLogger(__name__)

KINDS = ("webhook", "files", "after")
DEFAULT_PARAMETER = "trigger_file"
_KEYS = {*KINDS, "environment", "parameter"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
#: the after-triggers catch up on upstream successes this recent (the tick's look back)
LOOK_BACK = timedelta(days=1)


class RateLimited(ShipError):
    code = "too_many_requests"
    http_status = 429


@dataclass
class TriggerSpec:
    kind: str
    environment: str = "production"
    detail: dict[str, Any] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_triggers(raw: Any, environments: list[str], where: str) -> list[TriggerSpec]:
    """``metadata.ml_ship.triggers`` checked: a ``BadInput`` naming the key otherwise."""
    if raw is None:
        return []
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise BadInput(f"{where}: an object ({{\"webhook\": true}}, {{\"files\": GLOB}}, "
                       f"{{\"after\": [JOB]}}) or a list of them, got {type(raw).__name__}")
    specs: list[TriggerSpec] = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]" if isinstance(raw, list) else where
        if not isinstance(item, dict):
            raise BadInput(f"{at}: an object is needed, got {type(item).__name__}")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise BadInput(f"{at}.{unknown[0]}: unknown key (keys: {', '.join(sorted(_KEYS))})")
        kinds = [k for k in KINDS if k in item]
        if len(kinds) != 1:
            raise BadInput(f"{at}: exactly one of webhook, files, after per trigger")
        kind = kinds[0]
        env = item.get("environment", "production")
        if not isinstance(env, str) or env not in environments:
            raise BadInput(f"{at}.environment: no environment named {env!r} (environments: "
                           f"{', '.join(environments)})")
        if "parameter" in item and kind != "files":
            raise BadInput(f"{at}.parameter: only a files trigger takes a parameter")
        value = item[kind]
        spec = TriggerSpec(kind, env)
        if kind == "webhook":
            if value is not True:
                if value is False:
                    continue
                raise BadInput(f"{at}.webhook: true or false, got {value!r}")
        elif kind == "files":
            spec.detail = {"glob": _check_glob(value, f"{at}.files"),
                           "parameter": _check_parameter(item.get("parameter"),
                                                         f"{at}.parameter")}
        else:
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list) or not names or not all(
                    isinstance(n, str) for n in names):
                raise BadInput(f"{at}.after: a job or pipeline name, or a list of them")
            try:
                spec.detail = {"upstream": sorted({check_name(n) for n in names})}
            except BadInput as exc:
                raise BadInput(f"{at}.after: {exc.message}") from None
        if any(s.kind == kind for s in specs):
            raise BadInput(f"{at}: a second {kind} trigger (one of each kind per job)")
        specs.append(spec)
    return specs


def _check_glob(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{where}: a glob relative to the project folder, e.g. "
                       "'data/incoming/*.csv'")
    clean = value.replace("\\", "/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or "\x00" in clean:
        raise BadInput(f"{where}: {value!r} is absolute: give a glob relative to the project "
                       "folder")
    if ".." in PurePosixPath(clean).parts:
        raise BadInput(f"{where}: {value!r} leads out of the project folder ('..')")
    if len(clean) > 500:
        raise BadInput(f"{where}: longer than 500 characters")
    return clean


def _check_parameter(value: Any, where: str) -> str:
    if value is None:
        return DEFAULT_PARAMETER
    if not isinstance(value, str) or not _IDENT.match(value):
        raise BadInput(f"{where}: a parameter name, got {value!r}")
    return value


def matching_files(root: str, pattern: str) -> list[str]:
    """The files under ``root`` matching ``pattern`` whose real path stays inside ``root``."""
    top = os.path.realpath(root)
    found = []
    for path in sorted(globlib.glob(os.path.join(globlib.escape(top), pattern),
                                    recursive=True)):
        real = os.path.realpath(path)
        if real.startswith(top + os.sep) and os.path.isfile(real):
            found.append(real)
    return found


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
                self._check_upstream(job, spec.detail["upstream"], f"{where}.after")
        return specs

    def _check_upstream(self, job: str, upstream: list[str], where: str) -> None:
        with self.store.session() as s:
            jobs = set(s.scalars(select(Job.name).where(Job.name.in_(upstream))))
            pipes = set(s.scalars(select(Pipeline.name).where(Pipeline.name.in_(upstream))))
            edges = {r.name: list(r.detail.get("upstream") or []) for r in s.scalars(
                select(Trigger).where(Trigger.kind == "after", Trigger.name != job))}
        for name in upstream:
            if name == job:
                raise BadInput(f"{where}: {job!r} cannot start after itself")
            if name not in jobs and name not in pipes:
                raise BadInput(f"{where}: no job or pipeline named {name!r} (ship it first)")
        edges[job] = upstream
        path = _cycle(edges, job)
        if path:
            raise BadInput(f"{where}: a cycle: {' -> '.join(path)} (each starts the next)")

    def sync_triggers(self, job: str, specs: list[TriggerSpec], root: Path | None) -> str | None:
        """Make the job's triggers those of the version just shipped; the new webhook's token
        (shown once) when one was made."""
        token = None
        with self.store.session() as s:
            rows = {r.kind: r for r in s.scalars(select(Trigger).where(Trigger.name == job))}
            for spec in specs:
                detail = dict(spec.detail)
                if spec.kind == "files":
                    detail["root"] = str(root or "")
                row = rows.pop(spec.kind, None)
                if row is None:
                    row = Trigger(name=job, kind=spec.kind, created_at=_now())
                    s.add(row)
                    if spec.kind == "webhook":
                        token = secrets.token_urlsafe(32)
                        row.token_hash = token_hash(token)
                seen = spec.kind == "files" and (row.detail or {}) != detail
                row.detail, row.environment = detail, spec.environment
                if seen:  # what is there now is not new
                    known = set(s.scalars(select(TriggerFire.key).where(
                        TriggerFire.name == job, TriggerFire.kind == "files")))
                    for path in matching_files(detail["root"], detail["glob"]):
                        if path not in known:
                            s.add(TriggerFire(name=job, kind="files", key=path, fired_at=_now()))
            for row in rows.values():
                s.delete(row)
        return token

    def triggers(self, job: str | None = None) -> list[TriggerInfo]:
        with self.store.session() as s:
            query = select(Trigger).order_by(Trigger.name, Trigger.kind)
            if job is not None:
                query = query.where(Trigger.name == job)
            out = []
            for r in s.scalars(query):
                last = s.execute(select(TriggerFire.fired_at, TriggerFire.run_id).where(
                    TriggerFire.name == r.name, TriggerFire.kind == r.kind,
                    TriggerFire.run_id.is_not(None)).order_by(TriggerFire.fired_at.desc())
                ).first()
                d = r.detail or {}
                detail = (d.get("glob", "") if r.kind == "files" else
                          ", ".join(d.get("upstream") or []) if r.kind == "after" else
                          "revoked" if r.revoked_at else "active")
                out.append(TriggerInfo(
                    job=r.name, kind=r.kind, detail=detail,  # type: ignore[arg-type]
                    environment=r.environment, last_fired=last[0] if last else None,
                    last_run_id=last[1] if last else None, root=d.get("root"),
                    parameter=d.get("parameter"), revoked=r.revoked_at is not None))
        return out

    def _webhook(self, s: Any, job: str) -> Trigger:
        self._job(s, job)  # NotFound naming the job
        row = s.scalars(select(Trigger).where(Trigger.name == job,
                                              Trigger.kind == "webhook")).first()
        if row is None:
            raise NotFound(f"job {job!r} has no webhook trigger (metadata.ml_ship.triggers: "
                           '{"webhook": true})')
        return row

    def trigger_token(self, job: str, actor: Any = None) -> TriggerToken:
        """A new secret for the job's webhook (the old one stops working); shown once."""
        token = secrets.token_urlsafe(32)
        with self.store.session() as s:
            row = self._webhook(s, job)
            row.token_hash, row.revoked_at = token_hash(token), None
        self._audit(job, "trigger", _who(self._actor(actor)),
                    {"webhook": "new token"})
        return TriggerToken(job=job, token=token, path=f"/ml-ship/api/triggers/{token}")

    def revoke_trigger(self, job: str, actor: Any = None) -> TriggerInfo:
        """Revoke the job's webhook token: its URL is a 404 from now on."""
        with self.store.session() as s:
            row = self._webhook(s, job)
            row.token_hash, row.revoked_at = None, _now()
        self._audit(job, "trigger", _who(self._actor(actor)),
                    {"webhook": "revoked"})
        return next(t for t in self.triggers(job) if t.kind == "webhook")

    def fire_webhook(self, token: str, parameters: dict[str, Any] | None) -> TriggerFired:
        """Start the run of the webhook whose token this is; ``NotFound`` (naming nothing)
        for an unknown or revoked token, ``RateLimited`` beyond the limit."""
        wanted = token_hash(token)
        with self.store.session() as s:
            row = s.scalars(select(Trigger).where(Trigger.kind == "webhook",
                                                  Trigger.token_hash == wanted)).first()
            if row is None or not hmac.compare_digest(row.token_hash or "", wanted):
                raise NotFound("no such trigger")
            job, env = row.name, row.environment
            limit = self.settings.trigger_rate_limit
            recent = s.scalar(select(func.count()).select_from(TriggerFire).where(
                TriggerFire.name == job, TriggerFire.kind == "webhook",
                TriggerFire.fired_at > _now() - timedelta(minutes=1))) or 0
            if recent >= limit:
                raise RateLimited(f"job {job!r}: its webhook started {recent} runs in the last "
                                  f"minute (limit {limit}, MlShip.trigger_rate_limit)")
            version = environment_version(s, "job", job, env, list(self.settings.environments))
        run = self.run(job, version, parameters, started_by="trigger:webhook")
        _record(self, job, "webhook", run.id, run.id)
        return TriggerFired(job=job, run_id=run.id, version=run.version, environment=env)


def _who(actor: Any) -> str:
    return str(getattr(actor, "name", "") or "")


def _cycle(edges: dict[str, list[str]], start: str) -> list[str] | None:
    """A path start -> … -> start following the upstream edges, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for up in edges.get(node, []):
            if up == start:
                return [*path, up]
            if up not in seen:
                seen.add(up)
                stack.append((up, [*path, up]))
    return None


def _record(ctx: ShipContext, job: str, kind: str, key: str, run_id: str | None) -> bool:
    """Record a fire; False when that key already fired (someone else started it)."""
    try:
        with ctx.store.session() as s:
            found = s.scalars(select(TriggerFire).where(
                TriggerFire.name == job, TriggerFire.kind == kind, TriggerFire.key == key)).first()
            if found is not None:
                if found.run_id is None and run_id is not None:
                    found.run_id = run_id
                    return True
                return False
            s.add(TriggerFire(name=job, kind=kind, key=key, run_id=run_id, fired_at=_now()))
            row = s.scalars(select(Trigger).where(Trigger.name == job,
                                                  Trigger.kind == kind)).first()
            if row is not None:
                row.last_fired_at = _now()
        return True
    except IntegrityError:
        return False


def _start(ctx: ShipContext, row: Trigger, key: str, parameters: dict[str, Any]) -> str | None:
    """Claim ``key`` for the trigger, then start its run; the run's id (None: already claimed)."""
    if not _record(ctx, row.name, row.kind, key, None):
        return None
    try:
        with ctx.store.session() as s:
            version = environment_version(s, "job", row.name, row.environment,
                                          list(ctx.settings.environments))
        run = ctx.run(row.name, version, parameters, started_by=f"trigger:{row.kind}")
    except Exception:
        log.exception("ml-ship: trigger %s of %s (%s) could not start a run", row.kind,
                      row.name, key)
        return None
    with ctx.store.session() as s:
        fire = s.scalars(select(TriggerFire).where(
            TriggerFire.name == row.name, TriggerFire.kind == row.kind,
            TriggerFire.key == key)).first()
        if fire is not None:
            fire.run_id = run.id
    return run.id


def fire_files(ctx: ShipContext) -> list[str]:
    """Start one run per new file of every files trigger; the runs' ids."""
    started = []
    with ctx.store.session() as s:
        rows = list(s.scalars(select(Trigger).where(Trigger.kind == "files")))
        s.expunge_all()
    for row in rows:
        d = row.detail or {}
        if not d.get("root") or not os.path.isdir(d["root"]):
            continue
        files = matching_files(d["root"], d["glob"])
        if not files:
            continue
        with ctx.store.session() as s:
            known = set(s.scalars(select(TriggerFire.key).where(
                TriggerFire.name == row.name, TriggerFire.kind == "files",
                TriggerFire.key.in_(files))))
        for path in files:
            if path not in known:
                run_id = _start(ctx, row, path, {d.get("parameter") or DEFAULT_PARAMETER: path})
                if run_id:
                    started.append(run_id)
    return started


def fire_after(ctx: ShipContext, now: datetime | None = None) -> list[str]:
    """Start the after-triggers whose upstream job or pipeline succeeded since (once per
    upstream success); the runs' ids."""
    started = []
    with ctx.store.session() as s:
        rows = list(s.scalars(select(Trigger).where(Trigger.kind == "after")))
        s.expunge_all()
    since = (now or _now()) - LOOK_BACK
    for row in rows:
        upstream = list((row.detail or {}).get("upstream") or [])
        after = max(row.created_at, since)
        with ctx.store.session() as s:
            done = [f"run:{i}" for i in s.scalars(
                select(Run.id).join(Job, Run.job_id == Job.id).where(
                    Job.name.in_(upstream), Run.status == "succeeded", Run.ended_at >= after))]
            done += [f"pipeline:{i}" for i in s.scalars(
                select(PipelineRun.id).join(Pipeline, PipelineRun.pipeline_id == Pipeline.id)
                .where(Pipeline.name.in_(upstream), PipelineRun.status == "succeeded",
                       PipelineRun.ended_at >= after))]
            known = set(s.scalars(select(TriggerFire.key).where(
                TriggerFire.name == row.name, TriggerFire.kind == "after")))
        for key in done:
            if key not in known:
                run_id = _start(ctx, row, key, {})
                if run_id:
                    started.append(run_id)
    return started


def fire_triggers(ctx: ShipContext) -> None:
    """The tick's part (``ShipService.tick_hooks``): new files, upstream successes."""
    fire_files(ctx)
    fire_after(ctx)


def on_run_ended(ctx: ShipContext, info: RunInfo) -> None:
    """A run that succeeded starts its job's downstream after-triggers at once (the tick
    catches up on what this misses: a pipeline's success, another process's run)."""
    if info.status != "succeeded":
        return
    with ctx.store.session() as s:
        rows = [r for r in s.scalars(select(Trigger).where(Trigger.kind == "after"))
                if info.job in ((r.detail or {}).get("upstream") or [])]
        s.expunge_all()
    for row in rows:
        _start(ctx, row, f"run:{info.id}", {})
