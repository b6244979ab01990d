"""Pipelines on the service: ship, describe, version, run, follow, cancel (``PipelinesMixin``).

The CLI and the REST layer call these methods; the work is done in ``core.engine`` (versions,
pipeline runs, the executor and the mirror, the scheduler), which takes the service as its
``ShipContext``, and ``jupyter_ml_ship.pipelines`` (the file format, templates, models).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ..errors import BadInput, Conflict, Forbidden
from ..pipelines import load_pipeline
from ..pipelines.models import (
    PipelineDescription,
    PipelineInfo,
    PipelineRunInfo,
    PipelineVersionInfo,
    ShipPipelineResult,
)
from ..store.schema import Event, Job, Pipeline, PipelineRun, PipelineVersion, Version
from ._base import _ServiceBase
from .access import RUN_BY, Actor, Ownership, check, owner_groups, permissions, refusal, whoami
from .engine import pipeline_runs, scheduler, versions
from .engine.deployment import pipeline_deployment
from .engine.pipeline_runs import run_info
from .engine.versions import pipeline_row, version_info, version_row
from .environments import check_environment, pointers
from .promotion.to_environment import promote_pipeline

#: pipeline run statuses that are final, and step statuses of work in progress
_DONE = ("succeeded", "failed", "cancelled")
_ACTIVE = ("starting", "queued", "building", "running")


class PipelinesMixin(_ServiceBase):
    # ---- files and versions ---------------------------------------------------------------

    def describe_pipeline_file(self, path: str | Path) -> PipelineDescription:
        """The validated graph of a pipeline file or notebook folder; ships and runs nothing."""
        found = versions.describe(self, path)
        self._delivery_keys(path, found)
        return found

    def _delivery_keys(self, path: str | Path, found: PipelineDescription | None = None
                       ) -> tuple[str, list[Any], Path | None]:
        """A pipeline file's ``schedule_environment`` and ``triggers:`` checked against the
        settings and the store (``core.triggers``): (its name, its triggers, their folder; a
        folder of notebooks has neither: no name, no triggers)."""
        if Path(path).is_dir():  # a folder of notebooks: neither key
            return "", [], None
        spec = load_pipeline(path, check_graph=False)
        if spec.schedule_environment is not None:
            check_environment(self.settings.environments, spec.schedule_environment,
                              spec.where("schedule_environment"))
        if spec.triggers is None:
            return spec.name, [], spec.base_dir
        steps = None
        if "after" in str(spec.triggers):  # its steps' jobs may not start it again
            steps = {st.job for st in (found or versions.describe(self, path)).steps}
        return spec.name, self.check_pipeline_triggers(spec, steps), spec.base_dir

    def ship_pipeline(self, path: str | Path, message: str | None = None,
                      author: str | None = None, actor: Actor | None = None,
                      confine: Path | None = None) -> ShipPipelineResult:
        """Check a pipeline file (or folder), ship its notebooks, record the version.

        Unchanged content gives the existing version (``created`` false). ``actor``: team
        mode, an owner of the pipeline or an admin, who may also ship each notebook step's job
        (they are shipped as that user) and run each ``job:`` step's job; the file's ``owners``
        must be groups of the hub (when the hub's groups are known).
        """
        actor = self._actor(actor)
        may_change = None
        if actor is not None:
            author = actor.name
            self._check_pipeline_ship(path, actor)
            who = actor

            def may_change(s: Any, pipe: Any) -> None:  # a new version: owners and admins
                check(who, "ship", self._pipeline_ownership(s, pipe))

        _, triggers, root = self._delivery_keys(path)  # before anything is recorded
        version, created = versions.ship(self, path, message,
                                         author if author is not None else whoami(), actor,
                                         may_change, confine)
        token = self.sync_triggers(version.pipeline, triggers, root, "pipeline")
        return ShipPipelineResult(pipeline=self.pipeline(version.pipeline, actor),
                                  version=version, created=created, trigger_token=token)

    def pipelines(self, actor: Actor | None = None) -> list[PipelineInfo]:
        actor = self._actor(actor)
        with self.store.session() as s:
            return [self._pipeline_info(s, p, actor)
                    for p in s.scalars(select(Pipeline).order_by(Pipeline.name))]

    def pipeline(self, name: str, actor: Actor | None = None) -> PipelineInfo:
        actor = self._actor(actor)
        with self.store.session() as s:
            return self._pipeline_info(s, pipeline_row(s, name), actor)

    def _check_pipeline_ship(self, path: str | Path, actor: Actor) -> None:
        """Team mode: may ``actor`` ship this pipeline file? (BadInput / Forbidden if not).

        Its owner groups must exist and its ``job:`` steps be jobs the user may run; whether
        the user may change the pipeline is known once its version's content is (anyone may
        ship it as it is: the lab's Run pipeline ships the file it shows first)."""
        spec = load_pipeline(path)
        if actor.known_groups is not None:
            unknown = [g for g in spec.owners if g not in actor.known_groups]
            if unknown:
                raise BadInput(f"{spec.where('owners')}: no JupyterHub group named "
                               f"{', '.join(map(repr, unknown))} (groups: "
                               f"{', '.join(sorted(actor.known_groups)) or 'none'})")
        with self.store.session() as s:
            for step in spec.steps.values():
                job = s.scalars(select(Job).where(Job.name == step.job)).first() \
                    if step.job else None
                reason = refusal(actor, "run", self._ownership(s, job)) if job else None
                if reason:
                    raise Forbidden(f"{spec.where('steps', step.id, 'job')}: {reason}")

    def pipeline_ownership(self, s: Any, pipe: Any) -> Ownership:
        """A pipeline's owner and owner groups (its file's ``owners``) and who may run it.

        The file's ``run_by`` decides (``team``: anyone may run the pipeline as a whole, its
        steps included, even those whose jobs only their owners may run on their own;
        ``owners``: only its owners, whatever its jobs say). Without one, the team may run it
        when every step's job says ``run_by: team``.
        """
        spec = s.scalar(select(PipelineVersion.spec).where(
            PipelineVersion.pipeline_id == pipe.id,
            PipelineVersion.number == pipe.current_version)) or {}
        groups = tuple(owner_groups(spec))
        run_by = spec.get("run_by")
        if run_by not in RUN_BY:
            jobs = {st.get("job") for st in (spec.get("steps") or {}).values()}
            configs = s.scalars(select(Version.config).join(Job, Job.id == Version.job_id).where(
                Job.name.in_(jobs), Version.number == Job.current_version)).all()
            team = bool(jobs) and len(configs) == len(jobs) and all(
                (c or {}).get("run_by") == "team" for c in configs)
            run_by = "team" if team else "owners"
        return Ownership("pipeline", pipe.name, pipe.owner or "", groups, run_by)

    _pipeline_ownership = pipeline_ownership

    def _pipeline_info(self, s: Any, pipe: Any, actor: Actor | None = None) -> PipelineInfo:
        last = s.scalars(select(PipelineRun).where(PipelineRun.pipeline_id == pipe.id)
                         .order_by(PipelineRun.id.desc()).limit(1)).first()
        latest = s.scalar(select(func.max(PipelineVersion.number))
                          .where(PipelineVersion.pipeline_id == pipe.id))
        own = self._pipeline_ownership(s, pipe)
        return PipelineInfo(name=pipe.name, owner=own.owner, owners=list(own.groups),
                            run_by="team" if own.run_by == "team" else "owners",
                            permissions=permissions(actor, own),
                            current_version=pipe.current_version,
                            latest_version=latest, created_at=pipe.created_at,
                            updated_at=pipe.updated_at, source_path=pipe.source_path,
                            last_run=run_info(last) if last else None,
                            environments=pointers(s, "pipeline", pipe))

    def pipeline_versions(self, name: str) -> list[PipelineVersionInfo]:
        """Newest first."""
        with self.store.session() as s:
            pipe = pipeline_row(s, name)
            return [version_info(v, pipe) for v in reversed(pipe.versions)]

    def pipeline_version(self, name: str,
                         number: int | None = None) -> PipelineVersionInfo:
        with self.store.session() as s:
            v = version_row(s, name, number)
            return version_info(v, v.pipeline)

    def pipeline_deployment(self, name: str, number: int | None = None) -> dict[str, Any]:
        """What an orchestrating backend deploys or exports of a pipeline version (plain
        data: ``Backend.deploy_pipeline``, ``Backend.export_pipeline``)."""
        return pipeline_deployment(self, name, number)

    def rollback_pipeline(self, name: str, number: int,
                          actor: Actor | str | None = None) -> PipelineInfo:
        who = self._actor(None if isinstance(actor, str) else actor)
        if who is not None:
            actor = who.name
            with self.store.session() as s:
                check(who, "rollback", self._pipeline_ownership(s, pipeline_row(s, name)))
        versions.rollback(self, name, number, str(actor or "") or whoami())
        return self.pipeline(name, who)

    def promote_pipeline(self, name: str, number: int, to: str | None = None,
                         actor: Actor | str | None = None) -> PipelineInfo:
        """Point an environment (default production: the current version) of a pipeline at a
        version (``core.environments``; audited ``pipeline-promote``)."""
        promote_pipeline(self, name, number, to, actor, self._pipeline_ownership)
        return self.pipeline(name, self._actor(None if isinstance(actor, str) else actor))

    def delete_pipeline(self, name: str, actor: Actor | None = None) -> None:
        """Delete a pipeline with its versions and pipeline runs (its jobs stay)."""
        actor = self._actor(actor)
        with self.store.session() as s:
            pipe = pipeline_row(s, name)
            check(actor, "delete", self._pipeline_ownership(s, pipe))
            active = s.scalar(select(func.count()).select_from(PipelineRun).where(
                PipelineRun.pipeline_id == pipe.id, PipelineRun.status.in_(("queued", "running"))))
            if active:
                raise Conflict(f"pipeline {name!r} has {active} active run(s); cancel them first")
            s.delete(pipe)
            s.add(Event(job_name=name, kind="pipeline-delete",
                        actor=actor.name if actor else whoami(), data={}))

    # ---- runs -----------------------------------------------------------------------------

    def run_pipeline(self, name: str, version: int | None = None,
                     parameters: dict[str, Any] | None = None, backend: str | None = None, *,
                     use_cache: bool = True, parallelism: int | None = None,
                     detach: bool = True, actor: Actor | None = None,
                     started_by: str | None = None) -> PipelineRunInfo:
        """Start a run of a shipped pipeline (default: its current version) and return at once.

        The steps that can start do so before this returns; a detached scheduler process
        (``detach``) carries on with the rest, so the caller may exit. With ``detach=False``
        the caller drives it (``drive_pipeline_run``) or lets the server's reconciler do so.
        """
        actor = self._actor(actor)
        with self.store.session() as s:
            check(actor, "run", self._pipeline_ownership(s, pipeline_row(s, name)))
        for_agent = started_by is None and self._hands_off()
        who = actor.name if actor else (started_by or whoami())
        run_id = pipeline_runs.create(self, name, version, parameters, backend, use_cache,
                             parallelism, started_by=who)
        self._audit(name, "pipeline-run", who, {
            "pipeline_run_id": run_id, **({"queued_for": "agent"} if for_agent else {})})
        if for_agent:  # the agent's tick advances it (and spawns its scheduler)
            return pipeline_runs.info(self, run_id)
        info = pipeline_runs.advance(self, run_id)
        if detach and info.status not in _DONE:
            scheduler.spawn(self, run_id)
        return info

    def drive_pipeline_run(self, run_id: str,
                           timeout: float | None = None) -> PipelineRunInfo:
        """Schedule a pipeline run in this process until it ends (or ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout if timeout else None
        return scheduler.drive(self, run_id, deadline)

    def advance_pipeline_run(self, run_id: str) -> PipelineRunInfo:
        """One idempotent scheduling pass (safe from several processes; the reconciler's call)."""
        return pipeline_runs.advance(self, run_id)

    def resume_pipeline_run(self, run_id: str) -> PipelineRunInfo:
        """Advance an active pipeline run and start a scheduler for it if none is alive."""
        info = pipeline_runs.info(self, run_id)
        if info.status in _DONE and not any(
                st.status in _ACTIVE for st in info.steps):
            return info
        if scheduler.scheduler_alive(self, run_id):
            return info
        info = pipeline_runs.advance(self, run_id)
        if info.status not in _DONE:
            scheduler.spawn(self, run_id)
        return info

    def get_pipeline_run(self, run_id: str,
                         reconcile: bool = True) -> PipelineRunInfo:
        """A pipeline run with its steps; ``reconcile`` resumes it if its scheduler is gone."""
        if reconcile:
            return self.resume_pipeline_run(run_id)
        return pipeline_runs.info(self, run_id)

    def pipeline_runs(self, pipeline: str | None = None, status: str | None = None,
                      limit: int = 50,
                      cursor: str | None = None) -> tuple[list[PipelineRunInfo], str | None]:
        """Newest first; ``cursor`` is the id of the last run of the previous page."""
        if not 1 <= limit <= 1000:
            raise BadInput(f"limit must be between 1 and 1000, got {limit}")
        q = select(PipelineRun).order_by(PipelineRun.id.desc())
        with self.store.session() as s:
            if pipeline is not None:
                q = q.where(PipelineRun.pipeline_id == pipeline_row(s, pipeline).id)
            if status is not None:
                q = q.where(PipelineRun.status == status)
            if cursor:
                q = q.where(PipelineRun.id < cursor)
            rows = s.scalars(q.limit(limit + 1)).all()
            page = [run_info(r) for r in rows[:limit]]
        return page, (page[-1].id if len(rows) > limit else None)

    def cancel_pipeline_run(self, run_id: str, actor: Actor | None = None) -> PipelineRunInfo:
        actor = self._actor(actor)
        name = ""
        with self.store.session() as s:
            row = s.get(PipelineRun, run_id)
            if row is not None:
                check(actor, "cancel", self._pipeline_ownership(s, row.pipeline),
                      started_by=row.started_by)
                name = row.pipeline.name
        info = pipeline_runs.cancel(self, run_id)
        self._audit(name, "pipeline-cancel", actor.name if actor else whoami(),
                    {"pipeline_run_id": run_id})
        return info

    def active_pipeline_run_ids(self) -> list[str]:
        with self.store.session() as s:
            return list(s.scalars(select(PipelineRun.id).where(
                PipelineRun.status.in_(("queued", "running")))))

    def wait_pipeline_run(self, run_id: str, timeout: float | None = None,
                          interval: float = 0.1,
                          on_update: Callable[[PipelineRunInfo], None] | None = None,
                          ) -> PipelineRunInfo:
        """Follow a pipeline run until it ends (or ``timeout``); ``on_update(info)`` each look.

        While no scheduler process holds the run (the one spawned is still starting, or it
        died), this process schedules it, so no step waits for a scheduler to come up.
        """
        deadline = time.monotonic() + timeout if timeout else None
        while True:
            info = pipeline_runs.info(self, run_id)
            if on_update:
                on_update(info)
            if info.status in _DONE and not any(st.status in _ACTIVE for st in info.steps):
                return info
            if deadline and time.monotonic() > deadline:
                return info
            if scheduler.scheduling(self, run_id):
                time.sleep(interval)
                continue
            if not scheduler.scheduler_alive(self, run_id):
                scheduler.spawn(self, run_id)
            look = time.monotonic() + max(interval, 1.0)

            def stop(look: float = look) -> bool:
                return time.monotonic() > look or scheduler.scheduling(self, run_id)

            scheduler.drive(self, run_id, deadline, stop=stop)
