"""Tables of the store (SQLAlchemy 2 declarative). Changes go through an Alembic migration."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    current_version: Mapped[int | None] = mapped_column(Integer)
    source_path: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: who shipped its first version (migration 0006)
    owner: Mapped[str] = mapped_column(String(200), default="")
    versions: Mapped[list[Version]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="Version.number"
    )


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("job_id", "number", name="uq_versions_job_number"),
        UniqueConstraint("job_id", "digest", name="uq_versions_job_digest"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notebook_file: Mapped[str] = mapped_column(Text)
    parameters: Mapped[list[Any]] = mapped_column(JSON, default=list)
    environment: Mapped[str] = mapped_column(Text, default="")
    environment_source: Mapped[str] = mapped_column(String(200), default="")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_path: Mapped[str] = mapped_column(Text, default="")
    #: the project folder shipped with the notebook: {root, notebook, files, bytes, manifest}
    project: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)
    #: the run its checks' ``reference`` baseline is (set by promotion; migration 0007)
    reference_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, default=None)
    #: gated promotion (``metadata.ml_ship.promote``; migration 0008): candidate | validating |
    #: promoted | rejected; None: shipped without ``promote``, current at once
    promotion: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    #: why it was promoted or rejected (or why it is still a candidate)
    promotion_reason: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    #: the run that validated it (its reference run once promoted)
    validation_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True,
                                                          default=None)
    #: ``rollback_on`` rolled it back: {at, to, runs, reason} (never twice, never back to it)
    auto_rollback: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True,
                                                                 default=None)
    #: git provenance of its project folder: {commit, branch, dirty, remote} (migration 0009)
    git: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)
    #: the environment its running validation run promotes it to (None: production)
    promotion_target: Mapped[str | None] = mapped_column(String(63), nullable=True,
                                                         default=None)
    job: Mapped[Job] = relationship(back_populates="versions")


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_job_created", "job_id", "id"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_pipeline_run", "pipeline_run_id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    backend: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    timeout: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run_dir: Mapped[str] = mapped_column(Text)
    backend_ref: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pipeline_run_id: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(63))
    #: the user who started it ("schedule" for a schedule's tick; migration 0006)
    started_by: Mapped[str] = mapped_column(String(200), default="")
    #: team mode: "agent" while it waits for the agent to start it, "claimed" once taken
    queue: Mapped[str | None] = mapped_column(String(16), index=True)
    #: healthy | degraded (succeeded, a check failed); its checks as evaluated (migration 0007)
    health: Mapped[str] = mapped_column(String(16), default="healthy", server_default="healthy")
    checks: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True, default=None)
    job: Mapped[Job] = relationship()
    version: Mapped[Version] = relationship()


class EnvironmentPointer(Base):
    """The version a job's or pipeline's environment (``staging``…) points at (migration 0009).
    ``production`` is not a row: it is ``jobs.current_version`` / ``pipelines.current_version``."""

    __tablename__ = "environment_pointers"
    __table_args__ = (
        UniqueConstraint("kind", "name", "environment", name="uq_environment_pointers"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "job" or "pipeline"
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(63))
    environment: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")


class Event(Base):
    """The audit trail: ship, current, rollback, run, cancel, delete, delete-run of a job
    (``job_name``) and their ``pipeline-*`` kinds of a pipeline, with who (``actor``) and when."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(63), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# ---- pipelines (migration 0002) -------------------------------------------------------------


class Pipeline(Base):
    """A named DAG of job steps; versions like a job's."""

    __tablename__ = "pipelines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    current_version: Mapped[int | None] = mapped_column(Integer)
    source_path: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: who shipped its first version (migration 0006)
    owner: Mapped[str] = mapped_column(String(200), default="")
    versions: Mapped[list[PipelineVersion]] = relationship(
        back_populates="pipeline", cascade="all, delete-orphan", order_by="PipelineVersion.number"
    )


class PipelineVersion(Base):
    """An immutable pipeline: its resolved spec (every step pinned to a job version)."""

    __tablename__ = "pipeline_versions"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "number", name="uq_pipeline_versions_number"),
        UniqueConstraint("pipeline_id", "digest", name="uq_pipeline_versions_digest"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    source_path: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: git provenance of its file's folder (migration 0009)
    git: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)
    pipeline: Mapped[Pipeline] = relationship(back_populates="versions")


class PipelineRun(Base):
    """One execution of a pipeline version; its steps are ``PipelineStep`` rows."""

    __tablename__ = "pipeline_runs"
    __table_args__ = (
        Index("ix_pipeline_runs_pipeline", "pipeline_id", "id"),
        Index("ix_pipeline_runs_status", "status"),
    )
    started_by: Mapped[str] = mapped_column(String(200), default="")
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    backend: Mapped[str | None] = mapped_column(String(32))
    parallelism: Mapped[int] = mapped_column(Integer, default=1)
    use_cache: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pipeline: Mapped[Pipeline] = relationship()
    version: Mapped[PipelineVersion] = relationship()
    steps: Mapped[list[PipelineStep]] = relationship(
        back_populates="pipeline_run", cascade="all, delete-orphan", order_by="PipelineStep.id"
    )


class PipelineStep(Base):
    """A step of a pipeline run. ``pending -> starting`` is claimed by a conditional UPDATE, so
    a step is started once even when several processes advance the same pipeline run."""

    __tablename__ = "pipeline_steps"
    __table_args__ = (
        UniqueConstraint("pipeline_run_id", "step", name="uq_pipeline_steps_step"),
        Index("ix_pipeline_steps_cache", "cache_key", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_run_id: Mapped[str] = mapped_column(
        ForeignKey("pipeline_runs.id", ondelete="CASCADE")
    )
    step: Mapped[str] = mapped_column(String(63))
    job: Mapped[str] = mapped_column(String(63))
    version_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    run_id: Mapped[str | None] = mapped_column(String(32))
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    cache_key: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pipeline_run: Mapped[PipelineRun] = relationship(back_populates="steps")


class Lease(Base):
    """Who does the periodic work of a store (``ml-ship agent``): held while renewed."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_tick: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# ---- deliveries: notifications and MLflow logging (migration 0005) --------------------------


class Delivery(Base):
    """One thing to tell the outside world about a run: a mail, a webhook post, an MLflow log.

    Unique per (run, channel, target, event), so planning it twice (two processes, a restart)
    makes one row; ``pending -> sending`` is claimed by a conditional UPDATE with a lease, so it
    is sent once even when several processes deliver. ``error`` never holds a secret."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subject", "channel", "target", "event", name="uq_deliveries_event"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the run id (or pipeline run id, ``subject_kind`` says which)
    subject: Mapped[str] = mapped_column(String(32), index=True)
    subject_kind: Mapped[str] = mapped_column(String(16), default="run")
    #: email | webhook | mlflow
    channel: Mapped[str] = mapped_column(String(16))
    #: addresses (comma-separated), the webhook's secret NAME, or "tracking"
    target: Mapped[str] = mapped_column(String(500))
    event: Mapped[str] = mapped_column(String(32))
    #: pending | sending | sent | failed (gave up)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryMark(Base):
    """A run whose end was looked at: its deliveries (if any) are planned."""

    __tablename__ = "delivery_marks"
    subject: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16), default="run")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---- schedules edited in place (migration 0011) ---------------------------------------------


class Schedule(Base):
    """A job's or pipeline's schedule as edited after ship (``core.schedules``): a cron that
    replaces the shipped one, its time zone, paused. ``base`` is the shipped schedule the edit
    was made over: a version shipped later with another schedule wins over the edit."""

    __tablename__ = "schedules"
    #: "job" or "pipeline"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    #: the edited cron (None: the shipped one)
    cron: Mapped[str | None] = mapped_column(String(200), nullable=True)
    base: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: an IANA time zone name the cron is read in
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")


# ---- runs started by events (migration 0010) ------------------------------------------------


class Trigger(Base):
    """One trigger of a job (``metadata.ml_ship.triggers``) or pipeline (its file's
    ``triggers:``), ``core.triggers``: kept in step with the last shipped version. A webhook
    keeps only the SHA-256 of its secret token."""

    __tablename__ = "triggers"
    __table_args__ = (UniqueConstraint("target", "name", "kind",
                                       name="uq_triggers_target_name_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: what it starts: "job" or "pipeline" (migration 0013)
    target: Mapped[str] = mapped_column(String(16), default="job", server_default="job")
    #: the job or pipeline it starts
    name: Mapped[str] = mapped_column(String(63), index=True)
    #: "webhook", "files" or "after"
    kind: Mapped[str] = mapped_column(String(16))
    #: files: {"glob", "root", "parameter"}; after: {"upstream": [...]}; webhook: {}
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    environment: Mapped[str] = mapped_column(String(63), default="production")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TriggerFire(Base):
    """A run a trigger started, once per ``key`` (files: the file's path; after: the upstream
    run; webhook: the run itself): the unique key is what makes a file start one run only,
    across restarts and processes."""

    __tablename__ = "trigger_fires"
    __table_args__ = (UniqueConstraint("target", "name", "kind", "key", name="uq_trigger_fires"),
                      Index("ix_trigger_fires_at", "name", "kind", "fired_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(16), default="job", server_default="job")
    name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(1000))
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
