"""The service: ship, list, roll back; job runs are in ``_job_runs.JobRunsMixin``.

The CLI and the server extension are two thin faces over one ``ShipService``. It imports neither
jupyter_server nor tornado, and holds no global state: build as many as you like.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .._version import __version__
from ..backends import Backend, backend_names, load_backend
from ..config import MlShip
from ..cron import check_schedule
from ..errors import BackendUnavailable, BadInput, Conflict, NotFound, storage_errors
from ..models import (
    AuditEvent,
    AuditTrail,
    BackendStatus,
    HealthInfo,
    JobInfo,
    ShipResult,
    VersionInfo,
)
from ..naming import check_name, name_from_path, validate_parameters
from ..notebook import load_notebook, make_snapshot, parameter_schema
from ..notebook._snapshot import ship_config
from ..notify_spec import check_mail_server
from ..runner import _warm
from ..store import Event, Job, Run, Store, Version
from ..store.files import atomic_write_json, atomic_write_text
from ..store.schema import Pipeline, utcnow
from . import convert
from . import schedules as schedule_book
from ._job_runs import JobRunsMixin
from ._pipeline_service import PipelinesMixin
from .access import Actor, Ownership, check, check_config, whoami
from .checks import parse_checks
from .engine import mirror_discovery
from .environments import configured
from .notifications import deliver_pending
from .projects import ProjectsMixin, display_root
from .promotion import PromotionMixin, parse_promote, parse_rollback_on
from .provenance import check_delivery_config, git_provenance
from .rows import job_row, job_version_row
from .tick import TickMixin
from .triggers import TriggersMixin, fire_triggers, on_run_ended

if TYPE_CHECKING:
    from ..models import ScheduleInfo


class ShipService(JobRunsMixin, PipelinesMixin, ProjectsMixin, TickMixin, PromotionMixin,
                  TriggersMixin):
    def __init__(self, settings: MlShip | None = None, store: Store | None = None,
                 actor: Actor | None = None):
        self.settings = settings or MlShip()
        #: who acts when a call names no actor (the CLI in a hub user's server: that user);
        #: None: single-user mode, nothing is checked (``core.access``)
        self.actor = actor
        self.home = self.settings.home_path
        self.store = store or Store(self.settings.db_url, self.home)
        self._backends: dict[str, Backend] = {}
        self._listeners: list[Any] = []
        #: more periodic work, called at the end of every tick that writes: ``hook(service)``;
        #: notifications and MLflow logs of the runs that ended
        self.tick_hooks: list[Any] = [deliver_pending, fire_triggers]
        # a job's success starts its after-triggers at once (core.triggers)
        self._listeners.append(lambda info: on_run_ended(self, info))
        #: who calls tick() in this process ("jupyter server", "agent"), for /health
        self.ticker: str | None = None
        #: a long-lived process (the Jupyter server) sets it: its first local run that starts
        #: cold starts the warm runner, owned by this process (it exits with it)
        self.warm_on_first_run = False
        #: whether this service started the warm runner (its owner stops it on shutdown)
        self.started_warm_runner = False

    # ---- plumbing -----------------------------------------------------------------------

    def _actor(self, actor: Actor | None) -> Actor | None:
        return actor if actor is not None else self.actor

    def _ownership(self, s: Session, job: Job) -> Ownership:
        config = s.scalar(select(Version.config).where(
            Version.job_id == job.id, Version.number == job.current_version)) or {}
        return Ownership.of("job", job.name, job.owner, config)

    def _audit(self, subject: str, kind: str, actor: str, data: dict[str, Any]) -> None:
        with self.store.session() as s:
            s.add(Event(job_name=subject, kind=kind, actor=actor or "", data=data))

    #: the names the inner contract (``core.context.ShipContext``) gives them
    acting = _actor
    audit = _audit

    def audit_trail(self, name: str | None = None, limit: int = 200,
                    kinds: tuple[str, ...] = ()) -> AuditTrail:
        """Who did what and when, newest first: of one job or pipeline (``name``) or all."""
        if not 1 <= limit <= 10_000:
            raise BadInput(f"limit must be between 1 and 10000, got {limit}")
        q = select(Event).order_by(Event.id.desc()).limit(limit)
        with self.store.session() as s:
            if name is not None:
                known = s.scalar(select(func.count()).select_from(Event)
                                 .where(Event.job_name == name))
                if not known and s.scalars(select(Job).where(Job.name == name)).first() is None \
                        and s.scalars(select(Pipeline).where(Pipeline.name == name)).first() \
                        is None:
                    raise NotFound(f"no job or pipeline named {name!r}")
                q = q.where(Event.job_name == name)
            if kinds:
                q = q.where(Event.kind.in_(kinds))
            return AuditTrail(events=[
                AuditEvent(id=e.id, subject=e.job_name, kind=e.kind, actor=e.actor,
                           created_at=e.created_at, data=e.data or {})
                for e in s.scalars(q)])

    def backend(self, name: str | None) -> Backend:
        name = name or self.settings.default_backend
        if name not in self._backends:
            if name not in self.settings.enabled_backends:
                raise BadInput(
                    f"backend {name!r} is not enabled (enabled: "
                    f"{', '.join(self.settings.enabled_backends)})"
                )
            self._backends[name] = load_backend(name, self.settings)
        return self._backends[name]

    def discover_runs(self, skip_unavailable: bool = True) -> list[str]:
        """Record runs that an enabled backend's own scheduler started (Airflow's schedule, a
        trigger in its UI): their ids. A backend that is down is skipped (next time), or its
        ``BackendUnavailable`` raised when not ``skip_unavailable``."""
        found: list[str] = []
        for name in self.settings.enabled_backends:
            try:
                impl = self.backend(name)
                found += mirror_discovery.record(self, impl, impl.started_runs())
            except BackendUnavailable:
                if not skip_unavailable:
                    raise
        return found

    def schedules(self) -> list[ScheduleInfo]:
        """Current versions with a schedule: who runs them, their next tick, the last fired."""
        return schedule_book.schedules(self)

    def edit_schedule(self, kind: str | None, name: str, *, cron: str | None = None,
                      timezone: str | None = None, paused: bool | None = None,
                      actor: Actor | str | None = None) -> ScheduleInfo:
        """Change a schedule without a new version (``core.schedules.edit_schedule``)."""
        return schedule_book.edit_schedule(self, kind, name, cron=cron, tz=timezone, paused=paused,
                             actor=actor)

    def fire_schedules(self, now: datetime | None = None) -> list[tuple[ScheduleInfo, str]]:
        """Start the runs of schedules that are due (not Airflow's): (schedule, run id or
        ``error: …``); the Jupyter server calls it every ``MlShip.schedule_interval`` s."""
        return schedule_book.fire_due(self, now)

    def subscribe(self, callback: Any) -> None:
        """``callback(RunInfo)`` on every run status change this service makes."""
        self._listeners.append(callback)

    def close(self) -> None:
        self.store.close()

    def prewarm(self, owned: bool = False) -> bool:
        """Start the local backend's warm runner in the background unless it is up; whether
        this call started it (runs use it once it answers, and start cold until then).
        ``owned``: it exits when this process does, even killed (a server, an agent)."""
        if "local" not in self.settings.enabled_backends:
            return False
        try:
            started = _warm.ensure(self.settings, owned=owned)
        except OSError:
            return False  # a read-only home, say: runs simply start cold
        self.started_warm_runner = self.started_warm_runner or started
        return started

    def stop_warm_runner(self) -> bool:
        """Stop the warm runner of this home (runs it started go on); whether one answered."""
        return _warm.stop(self.settings)

    def health(self) -> HealthInfo:
        statuses = []
        for name in backend_names():
            if name not in self.settings.enabled_backends:
                continue
            try:
                ok, reason = self.backend(name).available()
            except Exception as exc:  # a broken backend must not break /health
                ok, reason = False, str(exc)
            statuses.append(BackendStatus(name=name, available=ok, reason=reason))
        agent = self.agent()
        periodic: Literal["agent", "jupyter server", "none"] = (
            "agent" if agent else "jupyter server" if self.ticker else "none")
        warnings = []
        if self.settings.team_mode and agent is None:
            warnings.append("team mode: no ml-ship agent is running, so runs cannot be "
                            "submitted; the hub's ml-ship-agent service starts them")
        elif periodic == "none":
            ours = [s for s in self.schedules() if s.runner == "ml-ship"]
            if ours:
                warnings.append(
                    f"{len(ours)} schedule(s) ({', '.join(s.name for s in ours[:5])}) but no "
                    "agent or Jupyter server fires them: start `ml-ship agent`")
        return HealthInfo(
            version=__version__,
            store=self.store.kind,
            backends=statuses,
            default_backend=self.settings.default_backend,
            agent=agent, periodic=periodic, warnings=warnings, team_mode=self.settings.team_mode,
            environments=configured(self.settings.environments),
        )

    # ---- ship ---------------------------------------------------------------------------

    @storage_errors(what="while shipping")  # nothing half-written stays: see store.files, blobs
    def ship(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        message: str | None = None,
        author: str | None = None,
        config: dict[str, Any] | None = None,
        run: bool = False,
        parameters: dict[str, Any] | None = None,
        backend: str | None = None,
        source: str | None = None,
        confine: Path | None = None,
        actor: Actor | None = None,
        git: dict[str, Any] | None = None,
        exported_from: tuple[Path, Path] | None = None,
        ship_anyway: bool = False,
    ) -> ShipResult:
        """Snapshot a notebook and its project folder as a new version of its job, or return
        the identical one.

        ``source`` is the path to record and show (the server passes it relative to its root);
        ``confine``: the folder the project folder must stay inside (the server root).
        ``actor``: who ships (team mode: an owner of an existing job, or an admin); its name is
        the author. ``git``: its provenance when the folder is not the checkout it came from
        (``--git-ref``); by default asked of git for the project folder (``core.provenance``).
        ``exported_from``: (the temporary folder, the repository it was exported from) of a
        ``--git-ref`` ship, so the version says it was shipped from the repository.
        ``ship_anyway``: a project folder over the server's limits ships, up to
        ``MlShip.ship_anyway_max_*``, for who may (``may_ship_anyway``); audited (``ship-anyway``).
        """
        path = Path(path)
        nb = load_notebook(path, self.settings.max_notebook_bytes)
        wanted = ship_config(nb, config, where=f"{path.name}: ").model_dump(exclude_none=True)
        actor = self._actor(actor)
        check_config(wanted, actor, f"{path.name}: ")
        parse_checks(wanted.get("checks"), f"{path.name}: metadata.ml_ship.checks")
        # gated promotion: the version ships as a candidate (core.promotion)
        promote = parse_promote(wanted.get("promote"), f"{path.name}: metadata.ml_ship.promote")
        parse_rollback_on(wanted.get("rollback_on"), f"{path.name}: metadata.ml_ship.rollback_on")
        check_delivery_config(wanted, promote, self.settings.environments, f"{path.name}: ")
        limits = self.ship_limits(actor, ship_anyway)  # Forbidden before anything is read
        check_mail_server(wanted.get("notify"), f"{path.name}: metadata.ml_ship.notify",
                          self.settings.smtp_host)
        scan = self.scan_project(path, wanted, confine)
        files = self.ingest_project(scan, limits)
        if git is None:
            git = git_provenance(scan.root)
        snap = make_snapshot(path, nb, config, freeze=self.settings.freeze_environment,
                             files=[(f["path"], f["sha256"]) for f in files])
        snap.source_path = source or snap.source_path
        job_name = check_name(name or snap.config.get("name") or name_from_path(path))
        if backend is None:
            backend = snap.config.get("backend")
        nb_file = self.home / "jobs" / job_name / f"{snap.digest}.ipynb"
        manifest_file = nb_file.with_suffix(".files.json")
        shown = scan.root if exported_from is None else (
            exported_from[1] / scan.root.relative_to(exported_from[0]))
        project = {"root": display_root(shown, confine), "notebook": scan.notebook,
                   "files": len(files), "bytes": sum(f["size"] for f in files),
                   "manifest": str(manifest_file),
                   # where it was shipped from: a run's hint names what it left out
                   "source": str(scan.root), "top": str(confine.resolve()) if confine else ""}
        if actor is not None:
            author = actor.name
        author = author if author is not None else _whoami()
        if promote is not None:  # its validation run's parameters, before anything is recorded
            if not nb_file.exists():
                atomic_write_text(nb_file, snap.to_json())
            validate_parameters(parameter_schema(nb_file), promote.parameters,
                                f"{path.name}: metadata.ml_ship.promote.validate.parameters",
                                self.settings.max_request_bytes)
        triggers = []  # runs started by events (core.triggers), checked before any record
        if wanted.get("triggers") is not None:
            if not nb_file.exists():
                atomic_write_text(nb_file, snap.to_json())
            triggers = self.check_triggers(job_name, wanted["triggers"],
                                           parameter_schema(nb_file),
                                           f"{path.name}: metadata.ml_ship.triggers")
        with self.store.session() as s:
            known = s.scalars(select(Job).where(Job.name == job_name)).first()
            # the current version's content again changes nothing (a pipeline's owner group
            # ships its file with its steps' notebooks as they are): anyone may
            if known is not None and known.current_version is not None and s.scalar(
                    select(Version.digest).where(Version.job_id == known.id,
                                                 Version.number == known.current_version)
            ) != snap.digest:
                check(actor, "ship", self._ownership(s, known))
        created = made_current = False
        for _ in range(20):  # concurrent ships of one job: retry on a unique-key race
            with self.store.session() as s:
                job = self._get_or_create_job(s, job_name, snap.source_path, author)
                existing = s.scalars(
                    select(Version).where(Version.job_id == job.id, Version.digest == snap.digest)
                ).first()
                if existing is not None:
                    version = existing
                    if job.current_version != existing.number and existing.promotion not in (
                            "candidate", "validating", "rejected"):  # shipped after a roll back
                        s.add(Event(job_name=job_name, kind="current", actor=author, data={
                            "from": job.current_version, "to": existing.number,
                            "digest": snap.digest, "reason": "shipped unchanged content"}))
                        job.current_version = existing.number
                        job.updated_at = utcnow()
                        made_current = True
                    break
            if not manifest_file.exists():
                atomic_write_json(manifest_file, {**project, "files": files, "excluded": [
                    {"path": p, "reason": r} for p, r in scan.excluded]})
            if not nb_file.exists():
                atomic_write_text(nb_file, snap.to_json())
            schema = parameter_schema(nb_file)
            try:
                with self.store.session() as s:
                    job = s.scalars(select(Job).where(Job.name == job_name)).one()
                    number = (s.scalar(
                        select(func.max(Version.number)).where(Version.job_id == job.id)
                    ) or 0) + 1
                    version = Version(
                        job_id=job.id, number=number, digest=snap.digest, message=message or "",
                        author=author, notebook_file=str(nb_file), parameters=schema,
                        environment=snap.environment, environment_source=snap.environment_source,
                        config=snap.config, source_path=snap.source_path, created_at=utcnow(),
                        project=project, git=git,
                    )
                    if promote is not None:  # current once its validation run says so
                        version.promotion = "candidate"
                        version.promotion_reason = "waiting for its validation run to start"
                    s.add(version)
                    s.flush()
                    if promote is None:
                        job.current_version = number
                    job.updated_at = utcnow()
                    job.source_path = snap.source_path
                    s.add(Event(job_name=job_name, kind="ship", actor=author,
                                data={"version": number, "digest": snap.digest,
                                      **({"candidate": True} if promote else {})}))
                created = True
                break
            except IntegrityError:
                continue
        else:  # pragma: no cover - twenty lost races in a row
            raise Conflict(f"job {job_name!r}: too many concurrent ships, try again")
        if ship_anyway and (len(scan.files) > self.settings.max_project_files
                            or scan.bytes > self.settings.max_project_bytes):
            self._audit(job_name, "ship-anyway", author, {
                "version": version.number, "files": len(scan.files), "bytes": scan.bytes,
                "max_files": self.settings.max_project_files,
                "max_bytes": self.settings.max_project_bytes})
        validation = self.start_validation(job_name, version.number, actor) \
            if created and promote is not None else None
        result = ShipResult(
            job=self.job(job_name, actor), version=self.version(job_name, version.number),
            created=created, made_current=made_current,
            trigger_token=self.sync_triggers(job_name, triggers, scan.root),
        )
        if run and validation is not None:  # a candidate's run is its validation run
            result.run = validation
        elif run:
            result.run = self.run(job_name, version.number, parameters, backend, actor=actor)
        return result

    def _get_or_create_job(self, s: Session, name: str, source: str, owner: str = "") -> Job:
        job = s.scalars(select(Job).where(Job.name == name)).first()
        if job is not None:
            if not job.owner and job.current_version is None:
                job.owner = owner
            return job
        try:
            with s.begin_nested():
                job = Job(name=name, source_path=source, created_at=utcnow(), updated_at=utcnow(),
                          owner=owner)
                s.add(job)
        except IntegrityError:
            job = s.scalars(select(Job).where(Job.name == name)).one()
        return job

    # ---- jobs and versions --------------------------------------------------------------

    def _job(self, s: Session, name: str) -> Job:
        return job_row(s, name)

    def _version(self, s: Session, name: str, number: int | None) -> Version:
        return job_version_row(s, name, number)

    def jobs(self, actor: Actor | None = None) -> list[JobInfo]:
        """Every job; ``permissions`` says what ``actor`` may do with each."""
        actor = self._actor(actor)
        with self.store.session() as s:
            jobs = list(s.scalars(select(Job).order_by(Job.name)))
            return convert.jobs_info(s, jobs, actor)

    def job(self, name: str, actor: Actor | None = None) -> JobInfo:
        actor = self._actor(actor)
        with self.store.session() as s:
            return convert.job_info(s, self._job(s, name), actor)

    def versions(self, name: str) -> list[VersionInfo]:
        with self.store.session() as s:
            job = self._job(s, name)
            rows = s.scalars(
                select(Version).where(Version.job_id == job.id).order_by(Version.number.desc())
            ).all()
            return [convert.version_info(v, job) for v in rows]

    def version(self, name: str, number: int | None = None) -> VersionInfo:
        with self.store.session() as s:
            v = self._version(s, name, number)
            return convert.version_info(v, v.job)

    def version_notebook(self, name: str, number: int | None = None) -> Path:
        with self.store.session() as s:
            return Path(self._version(s, name, number).notebook_file)

    def rollback(self, name: str, number: int, actor: Actor | str | None = None) -> JobInfo:
        """Point the job's current version at an earlier version; history stays as it was.
        ``actor``: who (checked, see ``core.access``); a plain name is only recorded. All or
        nothing: a version whose stored schedule never fires is refused (``BadInput``), and
        the answer is built before the change is committed."""
        who = self._actor(None if isinstance(actor, str) else actor)
        if who is not None:
            actor = who.name
        with self.store.session() as s:
            version = self._version(s, name, number)
            job = version.job
            check(who, "rollback", self._ownership(s, job))
            if version.promotion in ("candidate", "validating", "rejected"):  # core.promotion
                raise Conflict(f"{name} v{number} is {version.promotion}"
                               f"{': ' + version.promotion_reason if version.promotion_reason else ''}"
                               f"; `ml-ship promote {name} {number}` makes it current"
                               f"{' (with --force)' if version.promotion != 'candidate' else ''}")
            check_schedule((version.config or {}).get("schedule"),
                           f"{name} v{version.number}: metadata.ml_ship.schedule")
            previous = job.current_version
            job.current_version = version.number
            job.updated_at = utcnow()
            s.add(Event(job_name=name, kind="rollback", actor=str(actor or "") or _whoami(),
                        data={"from": previous, "to": version.number}))
            s.flush()
            return convert.job_info(s, job, who)

    def delete_job(self, name: str, actor: Actor | None = None) -> None:
        actor = self._actor(actor)
        with self.store.session() as s:
            job = self._job(s, name)
            check(actor, "delete", self._ownership(s, job))
            active = s.scalar(
                select(func.count()).select_from(Run).where(
                    Run.job_id == job.id, Run.status.in_(("queued", "building", "running"))
                )
            )
            if active:
                raise Conflict(f"job {name!r} has {active} active run(s); cancel them first")
            s.delete(job)
            s.add(Event(job_name=name, kind="delete",
                        actor=actor.name if actor else _whoami(), data={}))


_whoami = whoami  # the name the mixins import
