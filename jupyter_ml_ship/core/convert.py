"""Store rows → public models."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from ..models import (
    TERMINAL_STATUSES,
    AutoRollback,
    CheckResult,
    GitInfo,
    JobInfo,
    ParameterSpec,
    ProjectSummary,
    RunError,
    RunInfo,
    SparkApp,
    VersionInfo,
)
from ..runner._spark import app_facts
from ..store import Job, Run, Version
from .access import Actor, Ownership, permissions
from .environments import PRODUCTION, many_pointers, pointers
from .notifications import deliveries_of
from .provenance import commit_url
from .schedules import edit_rows, effective, next_tick


def run_info(r: Run, job_name: str | None = None, s: Session | None = None) -> RunInfo:
    """``s``: also read the run's notifications (one query: not for listings)."""
    duration = None
    if r.started_at is not None:
        end = r.ended_at or (None if r.status in TERMINAL_STATUSES else datetime.now(timezone.utc))
        if end is not None:
            duration = max(0.0, (end - r.started_at).total_seconds())
    return RunInfo(
        id=r.id,
        job=job_name or r.job.name,
        version=r.version_number,
        backend=r.backend,
        status=r.status,  # type: ignore[arg-type]
        parameters=r.parameters or {},
        attempts=r.attempts,
        max_attempts=r.max_attempts,
        created_at=r.created_at,
        started_at=r.started_at,
        ended_at=r.ended_at,
        duration=duration,
        error=RunError(**r.error) if r.error else None,
        outputs=r.outputs or {},
        pipeline_run_id=r.pipeline_run_id,
        step=r.step,
        started_by=r.started_by or "",
        has_output=(Path(r.run_dir) / "output.ipynb").exists()
        or (Path(r.run_dir) / "output.partial.ipynb").exists(),
        notifications=_deliveries(s, r.id) if s is not None else [],
        health=r.health or "healthy",  # type: ignore[arg-type]
        checks=[CheckResult(**c) for c in r.checks or []],
        spark=_spark(r),
    )


def _spark(r: Run) -> SparkApp | None:
    """From the record once the run ended; from its folder while it runs (the live UI)."""
    found = (r.backend_ref or {}).get("spark")
    if found is None and r.status not in TERMINAL_STATUSES:
        found = app_facts(Path(r.run_dir))
    return SparkApp(**found) if found and found.get("app_id") else None


def _deliveries(s: Session, run_id: str) -> list[Any]:
    return deliveries_of(s, run_id)  # type: ignore[return-value]


def version_info(v: Version, job: Job) -> VersionInfo:
    return VersionInfo(
        job=job.name,
        number=v.number,
        digest=v.digest,
        message=v.message,
        author=v.author,
        created_at=v.created_at,
        parameters=[ParameterSpec(**p) for p in v.parameters],
        environment=v.environment,
        config=v.config,
        source_path=v.source_path,
        is_current=job.current_version == v.number,
        project=ProjectSummary(**{k: v.project[k] for k in ("root", "notebook", "files",
                                                            "bytes")}) if v.project else None,
        promotion=cast(Any, v.promotion), promotion_reason=v.promotion_reason,
        validation_run_id=v.validation_run_id, reference_run_id=v.reference_run_id,
        auto_rollback=AutoRollback(**v.auto_rollback) if v.auto_rollback else None,
        git=git_info(v.git), promotion_target=v.promotion_target,
        environments=_environments_of(v, job),
    )


def git_info(git: dict[str, Any] | None) -> GitInfo | None:
    if not git or not git.get("commit"):
        return None
    return GitInfo(commit=str(git["commit"]), branch=git.get("branch"), remote=git.get("remote"),
                   dirty=bool(git.get("dirty")), url=commit_url(git.get("remote"), git["commit"]))


def _job_environments(job: Job) -> dict[str, int]:
    """{environment: version} of a job (of a listing's one query when ``jobs_info`` made it)."""
    s = object_session(job)
    if s is None:
        return {} if job.current_version is None else {PRODUCTION: job.current_version}
    listed = s.info.get(_ENVIRONMENTS) or {}
    return listed[job.name] if job.name in listed else pointers(s, "job", job)


_ENVIRONMENTS = "ml_ship.environments"


def _environments_of(v: Version, job: Job) -> list[str]:
    """The environments pointing at ``v`` (production: the current version)."""
    s = object_session(job)
    if s is None:
        return [PRODUCTION] if job.current_version == v.number else []
    return [env for env, n in pointers(s, "job", job).items() if n == v.number]


def job_info(s: Session, job: Job, actor: Actor | None = None) -> JobInfo:
    last = s.scalars(
        select(Run).where(Run.job_id == job.id).order_by(Run.id.desc()).limit(1)
    ).first()
    latest = s.scalar(select(func.max(Version.number)).where(Version.job_id == job.id))
    config = s.scalar(select(Version.config).where(
        Version.job_id == job.id, Version.number == job.current_version)) or {}
    return _job_info(job, last, latest, config, actor,
                     edit_rows(s, "job", [job.name]).get(job.name))


def jobs_info(s: Session, jobs: list[Job], actor: Actor | None = None) -> list[JobInfo]:
    """``job_info`` of many jobs in four queries, not four per job (the panel's listing)."""
    ids = [j.id for j in jobs]
    if not ids:
        return []
    s.info[_ENVIRONMENTS] = many_pointers(s, "job", jobs)  # read by _job_info, one query
    last_ids = dict(s.execute(select(Run.job_id, func.max(Run.id))
                              .where(Run.job_id.in_(ids)).group_by(Run.job_id)).tuples().all())
    lasts = {r.job_id: r for r in s.scalars(select(Run).where(Run.id.in_(last_ids.values())))}
    latest = dict(s.execute(select(Version.job_id, func.max(Version.number))
                            .where(Version.job_id.in_(ids)).group_by(Version.job_id))
                  .tuples().all())
    configs: dict[int, dict[str, Any]] = dict(s.execute(select(Version.job_id, Version.config)
                             .join(Job, Job.id == Version.job_id)
                             .where(Version.job_id.in_(ids),
                                    Version.number == Job.current_version)).tuples().all())
    edits = edit_rows(s, "job", [j.name for j in jobs])
    return [_job_info(j, lasts.get(j.id), latest.get(j.id), configs.get(j.id) or {}, actor,
                      edits.get(j.name)) for j in jobs]


def _job_info(job: Job, last: Run | None, latest: int | None, config: dict[str, Any],
              actor: Actor | None, edit: Any = None) -> JobInfo:
    schedule, tz, paused = effective(config.get("schedule"), edit,  # as edited (core.schedules)
                                     config.get("timezone"))
    next_run, schedule_error = next_tick(schedule, tz=tz) if schedule else (None, None)
    own = Ownership.of("job", job.name, job.owner, config)
    return JobInfo(
        owner=own.owner, owners=list(own.groups),
        run_by="team" if own.run_by == "team" else "owners",
        permissions=permissions(actor, own),
        schedule=schedule,
        next_run=None if paused else next_run,
        schedule_timezone=tz, schedule_paused=paused,
        schedule_error=schedule_error,
        name=job.name,
        current_version=job.current_version,
        environments=_job_environments(job),
        latest_version=latest,
        created_at=job.created_at,
        updated_at=job.updated_at,
        source_path=job.source_path,
        last_run=run_info(last, job.name) if last else None,
    )
