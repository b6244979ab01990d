"""Run lifecycle: start, reconcile from the run directory, cancel, wait, logs."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update

from ..backends import RunContext
from ..errors import BackendUnavailable, BadInput, Conflict, NotFound, storage_error
from ..models import TERMINAL_STATUSES, RunInfo
from ..naming import validate_parameters
from ..runner._prepare import write_input
from ..runner._spark import app_facts, merge_spark, spark_spec
from ..store import Job, Run
from ..store.files import atomic_write_json, read_json
from ..store.schema import utcnow
from . import convert
from ._run_delete import RunDeleteMixin
from ._run_ends import RunEndsMixin
from ._run_files import mask_recorded, no_result_reason, run_folder
from .access import Actor, check, whoami
from .checks import evaluate_finished
from .context import RunRequest
from .rows import new_run_id
from .tick import CLAIM_FILE, holder_id

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

ACTIVE = ("queued", "building", "running")
#: a run past its timeout by this much, with no result, is stopped by the service itself
TIMEOUT_GRACE = 30.0


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class JobRunsMixin(RunDeleteMixin, RunEndsMixin):  # delete_run: in _run_delete; _run_ended
    # ---- start --------------------------------------------------------------------------

    def run(
        self,
        job: str,
        version: int | None = None,
        parameters: dict[str, Any] | None = None,
        backend: str | None = None,
        *,
        pipeline_run_id: str | None = None,
        step: str | None = None,
        overrides: dict[str, Any] | None = None,
        actor: Actor | None = None,
        started_by: str | None = None,
    ) -> RunInfo:
        """Start a run of a version (default: the current one) and return at once.

        ``actor``: who asks (team mode: checked, see ``core.access``); ``started_by``: the name
        to record when it is not a user (``"schedule"``). In team mode, outside the agent, the
        run is recorded ``queued`` for the agent to start; with no live agent, nothing is
        recorded and ``BackendUnavailable`` says why."""
        actor = self._actor(actor)
        with self.store.session() as s:
            check(actor, "run", self._ownership(s, self._job(s, job)))
        for_agent = pipeline_run_id is None and started_by is None and self._hands_off()
        started = self.start_runs([RunRequest(
            job, version, parameters, backend, pipeline_run_id, step, overrides,
            started_by=actor.name if actor else (started_by or whoami()),
            for_agent=for_agent)])[0]
        if isinstance(started, BaseException):
            raise started
        if pipeline_run_id is None:  # a pipeline's steps are in its own entry
            self._audit(job, "run", started.started_by, {
                "run_id": started.id, "version": started.version, "backend": started.backend,
                **({"queued_for": "agent"} if for_agent else {})})
        return started

    def _hands_off(self) -> bool:
        """Team mode outside the agent: runs are the agent's to start; refuse when none is
        live, before anything is recorded."""
        if not self.settings.team_mode or self.ticker == "agent":
            return False
        if self.agent() is None:
            raise BackendUnavailable(
                "no ml-ship agent is running for this workspace (team mode: the agent, a "
                "JupyterHub service, starts every run); nothing was recorded. Ask your hub "
                "admin to start the ml-ship-agent service, then try again")
        return True

    def start_runs(self,
                   requests: list[RunRequest]) -> list[RunInfo | Exception]:
        """Start several runs at once (a pipeline's ready steps): one transaction records them
        all, then each backend starts its run. Per request, its run or why it could not start.
        """
        results: list[RunInfo | Exception | None] = [None] * len(requests)
        prepared: list[tuple[int, Any, RunContext, str]] = []
        queued: list[tuple[int, str]] = []
        with self.store.session() as s:
            for i, req in enumerate(requests):
                try:
                    if req.for_agent:
                        row = self._queue_run(s, req)
                        s.add(row)
                        queued.append((i, row.id))
                        continue
                    impl, ctx, row = self._prepare_run(s, req)
                except Exception as exc:  # nothing of this request was added to the session
                    results[i] = exc
                    continue
                s.add(row)
                prepared.append((i, impl, ctx, row.backend))
        for i, run_id in queued:
            info = self.get_run(run_id, reconcile=False)
            self._notify(info)
            results[i] = info
        self._launch(prepared, results)
        return results  # type: ignore[return-value]

    def _launch(self, prepared: list[tuple[int, Any, RunContext, str]],
                results: list[Any]) -> None:
        """Start recorded runs on their backends; each one's info (or error) in ``results``."""
        refs: dict[str, tuple[dict[str, Any], datetime]] = {}
        for i, impl, ctx, backend_name in prepared:
            try:
                refs[ctx.run_id] = impl.start(ctx), utcnow()
            except Exception as exc:
                exc = storage_error(exc, ctx.run_dir, "starting the run") or exc
                self._finish(ctx.run_id, "failed", {"message": f"{backend_name} could not start "
                                                    f"the run: {getattr(exc, 'message', exc)}",
                                                    "ename": type(exc).__name__})
                results[i] = exc
        if refs:
            with self.store.session() as s:
                for run_id, (ref, started_at) in refs.items():
                    rec = s.get(Run, run_id)
                    assert rec is not None  # recorded above, and a queued run is not deleted
                    rec.backend_ref = ref
                    if rec.status == "queued":
                        rec.status = ref.get("status", "running")
                        rec.started_at = started_at
                        if rec.status == "running":
                            rec.attempts = max(rec.attempts, 1)  # the first attempt began
        for i, _, ctx, _ in prepared:
            if ctx.run_id in refs:
                info = self.get_run(ctx.run_id, reconcile=False)
                self._notify(info)
                results[i] = info
        if self.warm_on_first_run and any(  # the first need: the next runs start warm
                name == "local" and ctx.run_id in refs and not refs[ctx.run_id][0].get("warm")
                for _, _, ctx, name in prepared):
            self.prewarm(owned=True)

    # ---- team mode: runs the agent starts ----------------------------------------------------

    def _queue_run(self, s: Any, req: RunRequest) -> Run:
        """The row of a run for the agent to start: validated here (bad input is the caller's
        400), its request kept in its run directory for the agent."""
        v = self._version(s, req.job, req.version)
        config = {**v.config, **(req.overrides or {})}
        params = validate_parameters(v.parameters, req.parameters, f"job {req.job} v{v.number}",
                                     self.settings.max_request_bytes)
        backend_name = req.backend or config.get("backend") or self.settings.default_backend
        if backend_name not in self.settings.enabled_backends:
            self.backend(backend_name)  # raises the BadInput that names the enabled ones
        run_id = new_run_id()
        run_dir = self.home / "runs" / run_id
        run_dir.mkdir(parents=True)
        atomic_write_json(run_dir / "request.json", {
            "job": req.job, "version": v.number, "parameters": params, "backend": backend_name,
            "overrides": req.overrides, "inputs": req.inputs, "step": req.step,
            "pipeline_run_id": req.pipeline_run_id, "started_by": req.started_by,
            "validation": req.validation})
        if req.validation:
            v.validation_run_id, v.promotion = run_id, "validating"
        return Run(
            id=run_id, job_id=v.job_id, version_id=v.id, version_number=v.number,
            backend=backend_name, status="queued", parameters=params, attempts=0,
            max_attempts=1 + int(config.get("retries") or 0), timeout=config.get("timeout"),
            created_at=utcnow(), outputs={}, run_dir=str(run_dir), backend_ref={},
            pipeline_run_id=req.pipeline_run_id, step=req.step, started_by=req.started_by,
            queue="agent")

    def start_queued_runs(self, limit: int = 100) -> list[str]:
        """Start the runs recorded for the agent (team mode) that no process started yet: each
        claimed by a conditional UPDATE first, so it starts once with several agents. Their
        ids; a run that cannot start fails with the reason."""
        with self.store.session() as s:
            waiting = list(s.scalars(select(Run.id).where(Run.queue == "agent")
                                     .order_by(Run.id).limit(limit)))
        started: list[str] = []
        for run_id in waiting:
            with self.store.session() as s:
                won = cast("CursorResult[Any]", s.execute(
                    update(Run).where(Run.id == run_id, Run.queue == "agent",
                                      Run.status == "queued").values(queue="claimed"))).rowcount
            if not won:
                continue
            started.append(run_id)
            try:
                with self.store.session() as s:
                    row = self._run_row(s, run_id)
                    # who took it: a claim whose process died is taken back (core.tick)
                    atomic_write_json(Path(row.run_dir) / CLAIM_FILE,
                                      {"holder": holder_id(), "at": utcnow().isoformat()},
                                      durable=False)
                    request = read_json(Path(row.run_dir) / "request.json") or {}
                    req = RunRequest(
                        request.get("job") or row.job.name, row.version_number, row.parameters,
                        row.backend, row.pipeline_run_id, row.step, request.get("overrides"),
                        request.get("inputs"), started_by=row.started_by,
                        validation=bool(request.get("validation")))
                    impl, ctx, _ = self._prepare_run(s, req, run_id=run_id)
            except Exception as exc:
                message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                self._finish(run_id, "failed", {"message": f"the agent could not start the "
                                                f"run: {message}", "ename": type(exc).__name__})
                continue
            self._launch([(0, impl, ctx, row.backend)], [None])
        return started

    def _prepare_run(self, s: Any, req: RunRequest,
                     run_id: str | None = None) -> tuple[Any, RunContext, Run]:
        """Validate a request and make its run directory; the row to add (raises on bad input
        before anything is added to the session). ``run_id``: a queued run's, whose directory
        exists."""
        v = self._version(s, req.job, req.version)
        config = {**v.config, **(req.overrides or {})}
        step_spark = (req.overrides or {}).get("spark")
        if step_spark is not None:  # a pipeline step's spark:, over the notebook's
            config["spark"] = merge_spark(v.config.get("spark"), step_spark)
        where = f"job {req.job} v{v.number}"
        params = validate_parameters(
            v.parameters, req.parameters, where, self.settings.max_request_bytes
        )
        backend_name = req.backend or config.get("backend") or self.settings.default_backend
        impl = self.backend(backend_name)
        ok, reason = impl.available()
        if not ok:
            raise BackendUnavailable(f"backend {backend_name!r} is not available: {reason}")
        secret_names = (config.get("secrets") or []) if impl.secrets_from_service else []
        missing = [n for n in secret_names if n not in os.environ]
        if missing:
            raise BadInput(f"{where}: secret(s) {', '.join(missing)} are not set in the "
                           "environment of the service")
        project = read_json(v.project["manifest"]) if v.project else None
        if v.project and project is None:
            raise NotFound(f"{where}: its file list {v.project['manifest']} is missing")
        notebook_dir = Path(project["notebook"]).parent.as_posix() if project else ""
        notebook_dir = "" if notebook_dir == "." else notebook_dir
        spark = spark_spec(config.get("spark"), self.settings.spark_master, where)
        made_here = run_id is None  # a queued run's folder is its record: kept
        run_id = run_id or new_run_id()
        run_dir = self.home / "runs" / run_id
        with run_folder(run_dir, made_here):  # a full disk: no half-made run folder is left
            run_dir.mkdir(parents=True, exist_ok=True)
            # cells tagged test run only in a validation run (gated promotion)
            nb = write_input(Path(v.notebook_file), run_dir / "input.ipynb", req.validation)
            kernel = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name")
            spec = {
                "run_id": run_id, "job": req.job, "version": v.number, "parameters": params,
                "kernel_name": kernel or "python3", "timeout": config.get("timeout"),
                "max_attempts": 1 + int(config.get("retries") or 0),
                # names only: the runner masks their values in all it writes
                "secret_names": sorted(secret_names),
            }
            if spark is not None:  # the runner hands the notebook a ready `spark` session
                spec["spark"] = spark
            if req.validation:
                spec["validation"] = True
            if project is not None:
                spec["project"] = {"notebook_dir": notebook_dir, "files": len(project["files"]),
                                   "max_artifact_bytes": self.settings.max_artifact_bytes}
            # no fsync: the runner reads it next; after a machine crash the run is lost anyway
            atomic_write_json(run_dir / "run.json", spec, durable=False)
            if req.inputs:
                atomic_write_json(run_dir / "inputs.json", req.inputs, durable=False)
        row = Run(
            id=run_id, job_id=v.job_id, version_id=v.id, version_number=v.number,
            backend=backend_name, status="queued", parameters=params, attempts=0,
            max_attempts=spec["max_attempts"], timeout=spec["timeout"], created_at=utcnow(),
            outputs={}, run_dir=str(run_dir), backend_ref={},
            pipeline_run_id=req.pipeline_run_id, step=req.step, started_by=req.started_by,
        )
        if req.validation:
            v.validation_run_id, v.promotion = run_id, "validating"
        ctx = RunContext(
            run_id=run_id, run_dir=run_dir, job=req.job, version=v.number, digest=v.digest,
            notebook_file=Path(v.notebook_file), environment=v.environment,
            environment_source=v.environment_source, config=config, spec=spec,
            secrets={n: os.environ[n] for n in secret_names},
            log=partial(_append_log, run_dir / "log.txt"),
            project_files=project["files"] if project else None,
            blobs=self.home / "blobs", notebook_dir=notebook_dir,
        )
        return impl, ctx, row

    # ---- read ---------------------------------------------------------------------------

    def _run_row(self, s: Any, run_id: str) -> Run:
        row = s.get(Run, run_id)
        if row is None:
            raise NotFound(f"no run with id {run_id!r}")
        return row

    def get_run(self, run_id: str, reconcile: bool = True) -> RunInfo:
        if reconcile:
            self.reconcile(run_id)
        with self.store.session() as s:
            return convert.run_info(self._run_row(s, run_id), s=s)

    def runs(
        self,
        job: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        pipeline_run_id: str | None = None,
    ) -> tuple[list[RunInfo], str | None]:
        """Newest first; ``cursor`` is the id of the last run of the previous page."""
        if not 1 <= limit <= 1000:
            raise BadInput(f"limit must be between 1 and 1000, got {limit}")
        q = select(Run, Job.name).join(Job, Run.job_id == Job.id).order_by(Run.id.desc())
        with self.store.session() as s:
            if job is not None:
                q = q.where(Run.job_id == self._job(s, job).id)
            if status is not None:
                q = q.where(Run.status == status)
            if pipeline_run_id is not None:
                q = q.where(Run.pipeline_run_id == pipeline_run_id)
            if cursor:
                q = q.where(Run.id < cursor)
            rows = s.execute(q.limit(limit + 1)).all()
            page = [convert.run_info(r, name) for r, name in rows[:limit]]
        return page, (page[-1].id if len(rows) > limit else None)

    def read_log(self, run_id: str, offset: int = 0,
                 limit: int = 1 << 20) -> tuple[bytes, int]:
        """Bytes of the log from ``offset`` (at most ``limit``) and the offset after them."""
        if offset < 0:
            raise BadInput(f"offset must be >= 0, got {offset}")
        with self.store.session() as s:
            row = self._run_row(s, run_id)
            path = Path(row.run_dir) / "log.txt"
        try:
            with open(path, "rb") as fh:
                # past the end: nothing yet (seeking that far can fail with EINVAL)
                if offset < os.fstat(fh.fileno()).st_size:
                    fh.seek(offset)
                    data = fh.read(limit)
                else:
                    data = b""
        except FileNotFoundError:
            data = b""
        return data, offset + len(data)

    def log_tail_start(self, run_id: str, tail: int) -> int:
        """Where to start reading to get about the last ``tail`` bytes of a run's log: the
        start of the first whole line in them (0 when the log is shorter)."""
        with self.store.session() as s:
            path = Path(self._run_row(s, run_id).run_dir) / "log.txt"
        try:
            with open(path, "rb") as fh:
                start = max(0, os.fstat(fh.fileno()).st_size - tail)
                if start == 0:
                    return 0
                fh.seek(start - 1)
                window = fh.read(min(tail, 64 * 1024) + 1)
        except FileNotFoundError:
            return 0
        newline = window.find(b"\n")
        return start + newline if newline >= 0 else start

    def output_path(self, run_id: str) -> Path:
        with self.store.session() as s:
            row = self._run_row(s, run_id)
            run_dir, status = Path(row.run_dir), row.status
        for name in ("output.ipynb", "output.partial.ipynb"):
            if (run_dir / name).exists():
                return run_dir / name
        raise NotFound(f"run {run_id} has no output notebook yet (status {status})")

    # ---- control ------------------------------------------------------------------------

    def cancel(self, run_id: str, actor: Actor | None = None) -> RunInfo:
        actor = self._actor(actor)
        with self.store.session() as s:
            row = self._run_row(s, run_id)
            status, backend, ref, run_dir = row.status, row.backend, row.backend_ref, row.run_dir
            job_name = row.job.name
            check(actor, "cancel", self._ownership(s, row.job), started_by=row.started_by)
            never_started = row.queue == "agent" and status == "queued"
            if never_started:  # the agent has not taken it: nothing to stop
                row.queue = "claimed"
        if status == "cancelled":
            return self.get_run(run_id, reconcile=False)
        if status in TERMINAL_STATUSES:
            raise Conflict(f"run {run_id} already ended ({status}); nothing to cancel")
        if not never_started:
            self.backend(backend).cancel(ref, Path(run_dir))
        who = actor.name if actor else whoami()
        message = f"cancelled by {actor.name}" if actor else "cancelled by user"
        self._finish(run_id, "cancelled", {"message": message,
                                           "ename": "Cancelled"})
        self._audit(job_name, "cancel", who, {"run_id": run_id})
        return self.get_run(run_id, reconcile=False)

    def wait(self, run_id: str, timeout: float | None = None,
             interval: float = 0.05) -> RunInfo:
        deadline = time.monotonic() + timeout if timeout else None
        while True:
            info = self.get_run(run_id)
            if info.status in TERMINAL_STATUSES:
                return info
            if deadline and time.monotonic() > deadline:
                return info
            time.sleep(interval)

    # ---- reconcile ----------------------------------------------------------------------

    def active_run_ids(self) -> list[str]:
        with self.store.session() as s:
            return list(s.scalars(select(Run.id).where(Run.status.in_(ACTIVE))))

    def reconcile(self, run_id: str) -> None:
        """Move a run's status from what its run directory and backend say."""
        with self.store.session() as s:
            row = self._run_row(s, run_id)
            if row.status in TERMINAL_STATUSES:
                return
            status, backend, ref = row.status, row.backend, dict(row.backend_ref or {})
            run_dir, started, timeout = Path(row.run_dir), row.started_at, row.timeout
            attempts_allowed, attempts = row.max_attempts, row.attempts
        impl = self.backend(backend)
        impl.collect(ref, run_dir)
        result = read_json(run_dir / "result.json")
        if result is None:
            alive = impl.is_alive(ref, run_dir)
            result = read_json(run_dir / "result.json")  # it may have landed meanwhile
        if result is not None:
            self._finish(run_id, result["status"], result.get("error"), result)
            return
        if not alive:
            if status == "queued" and not ref:
                return  # still being started by another process
            full = no_result_reason(run_dir)
            self._finish(run_id, "failed", {
                "message": full, "ename": "InsufficientStorage"} if full else {
                "message": f"the run's {backend} process ended without a result "
                           "(killed, or the machine restarted)",
                "ename": "RunnerLost",
            })
            return
        state = read_json(run_dir / "state.json") or {}
        phase = state.get("phase")
        if timeout and started and phase != "building":  # an image build is not run time
            since = _parse_time(state.get("started_at")) or started  # when the runner began
            limit = timedelta(seconds=timeout * attempts_allowed + TIMEOUT_GRACE)
            if datetime.now(timezone.utc) - since > limit:
                impl.cancel(ref, run_dir)
                self._finish(run_id, "timed_out", {"message": f"timed out after {timeout:g} s "
                                                   "(runner unresponsive)", "ename": "Timeout"})
                return
        attempt = int(state.get("attempt") or 0)
        if phase in ("building", "running") and (phase != status or attempt > attempts):
            with self.store.session() as s:  # started, or a retry began
                rec = s.get(Run, run_id)
                assert rec is not None  # read above, and an active run is not deleted
                rec.status = phase
                rec.attempts = max(attempt, rec.attempts)
            self._notify(self.get_run(run_id, reconcile=False))

    def _finish(self, run_id: str, status: str, error: dict[str, Any] | None,
                result: dict[str, Any] | None = None) -> None:
        with self.store.session() as s:
            row = s.get(Run, run_id)
            if row is None or row.status in TERMINAL_STATUSES:
                return
            checked = evaluate_finished(  # reads only, before the row changes (core.checks)
                s, row, status, (result.get("outputs") or {}) if result else (row.outputs or {}),
                self.store, self.home)
            error, outputs = mask_recorded(row.run_dir, error, (result or {}).get("outputs"))
            error = self.with_layout_hint(row.version.project, error)  # core.projects
            row.status = status
            row.error = error
            row.ended_at = _parse_time((result or {}).get("ended_at")) or utcnow()
            spark = (result or {}).get("spark") or app_facts(Path(row.run_dir))
            if spark:  # the Spark application's id and UI link (a cancel has no result)
                row.backend_ref = {**(row.backend_ref or {}), "spark": spark}
            if result:
                row.outputs = outputs or {}
                row.attempts = int(result.get("attempts") or row.attempts)
                row.started_at = row.started_at or _parse_time(result.get("started_at"))
            if checked is not None:
                checked.apply(row)
        self._run_ended(run_id)  # promotion, rollback_on, listeners (maybe deferred: _run_ends)

    def finish_run(self, run_id: str, status: str, error: dict[str, Any] | None,
                   result: dict[str, Any] | None = None) -> None:
        """Record that a run ended (checks, promotion, listeners), unless it already had (the
        engine fails a step's run whose starter died before its backend got it)."""
        self._finish(run_id, status, error, result)

    def _notify(self, info: RunInfo) -> None:
        for callback in list(self._listeners):
            try:
                callback(info)
            except Exception:  # a listener must not break the service
                pass


def _append_log(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")
