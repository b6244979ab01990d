"""The mirror: a pipeline run an orchestrating backend schedules (Airflow), applied to our
records by core.

With such a backend (``Backend.orchestrates_pipelines``) a pipeline version is one DAG and a
pipeline run is one DAG run: the backend decides what runs when, and ``step_pass`` (chosen
instead of the executor's, once, by ``pipeline_runs.scheduling_of``; called from the pipeline's
scheduler process, the server, the agent or a CLI, any number of times) follows it. The backend only talks to the orchestrator and reports what it sees
(``Backend.observe_pipeline_run`` gives a typed ``PipelineObservation``); every write to the
pipeline run and its steps is made here, in core:

1. ``new``: the run is marked running and nothing slow happens (the caller may be a request);
2. ``deploying``: the step images are built (docker operator), the DAG file is written, and the
   DAG run is triggered with the pipeline parameters as its conf once Airflow has loaded it;
3. ``triggered``: a step whose task started gets a run of its own (on the same backend, the same
   run records as on any backend: log, status, outputs, output notebook), followed through
   the backend's ``collect``; a task the orchestrator skipped is a ``skipped`` step; the
   pipeline run ends with the DAG run.

The backend names the files kept here (``Backend.mirror_files``; Airflow's are ``airflow.*``):
progress of the deploy goes to ``HOME/pipeline-runs/<id>/<log>``, and one process advances a
pipeline run at a time (``<lock>``); the others return at once.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update

from ...backends.base import Backend, MirrorFiles, PipelineObservation, TaskObservation
from ...errors import BackendUnavailable, NotFound, ShipError
from ...pipelines import templates
from ...pipelines.models import PIPELINE_DONE
from ...store.files import atomic_write_json, read_json, try_lock
from ...store.schema import PipelineRun, PipelineStep, Run, utcnow
from ..context import ShipContext
from .deployment import pipeline_deployment

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

#: seconds between two looks at the orchestrator for one pipeline run
MIN_SYNC = 1.0
#: a step claimed this long ago with no run recorded was lost by a dying process
STALE_CLAIM = timedelta(seconds=60)
ACTIVE = ("starting", "queued", "building", "running")
DONE = ("succeeded", "failed", "cancelled", "timed_out", "skipped")
NOT_STARTED = (None, "none", "scheduled", "queued")  # the orchestrator's task states
NEVER_RUN = ("upstream_failed", "skipped", "removed")


def files_of(backend: Backend) -> MirrorFiles:
    """The names of the files the mirror keeps for ``backend`` (it declares them)."""
    if backend.mirror_files is None:
        raise ShipError(f"backend {backend.name!r} orchestrates pipelines but names no "
                        "files for their mirror (Backend.mirror_files)")
    return backend.mirror_files


def folder(ctx: ShipContext, run_id: str) -> Path:
    return ctx.home / "pipeline-runs" / run_id


def log(backend: Backend, ctx: ShipContext, run_id: str, line: str) -> None:
    """A line of the pipeline run's mirror log (the deploy's progress, what was seen)."""
    path = folder(ctx, run_id) / files_of(backend).log
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")


# ---- the store ------------------------------------------------------------------------------


def _load(ctx: ShipContext, run_id: str) -> dict[str, Any]:
    with ctx.store.session() as s:
        pr = s.get(PipelineRun, run_id)
        if pr is None:  # deleted with its pipeline
            raise NotFound(f"no pipeline run with id {run_id!r}")
        return {
            "status": pr.status, "name": pr.pipeline.name, "version": pr.version_number,
            "params": dict(pr.parameters or {}), "spec": dict(pr.version.spec),
            "steps": {r.step: {"id": r.id, "step": r.step, "status": r.status, "run_id": r.run_id,
                               "outputs": dict(r.outputs or {}), "claimed_at": r.claimed_at}
                      for r in pr.steps},
        }


def _set_step(ctx: ShipContext, row: dict[str, Any], olds: tuple[str, ...],
              **values: Any) -> bool:
    """Update a step only if it is still in one of ``olds`` (several processes may try)."""
    with ctx.store.session() as s:
        done = cast("CursorResult[Any]", s.execute(
            update(PipelineStep).where(PipelineStep.id == row["id"], PipelineStep.status.in_(olds))
            .values(**values))).rowcount
    if done:
        row.update({k: v for k, v in values.items() if k in ("status", "run_id", "outputs")})
    return bool(done)


def _set_run(ctx: ShipContext, run_id: str, olds: tuple[str, ...], **values: Any) -> None:
    with ctx.store.session() as s:
        s.execute(update(PipelineRun).where(PipelineRun.id == run_id,
                                            PipelineRun.status.in_(olds)).values(**values))


def _fail(backend: Backend, ctx: ShipContext, run_id: str, snap: dict[str, Any], message: str,
          ename: str | None = None) -> None:
    """The pipeline run failed on the orchestrator's side before (some of) its steps ran."""
    log(backend, ctx, run_id, f"[ml-ship] pipeline run failed: {message}")
    for row in snap["steps"].values():
        if row["run_id"] is None:
            _set_step(ctx, row, ("pending", "queued", "starting"), status="skipped",
                      ended_at=utcnow(), error={"message": f"not run: {message}",
                                                "ename": "Skipped"})
    _set_run(ctx, run_id, ("queued", "running"), status="failed", ended_at=utcnow(),
             error={"message": message, "ename": ename or f"{backend.label}Error"})


# ---- advance --------------------------------------------------------------------------------


def step_pass(backend: Backend, ctx: ShipContext, run_id: str,
              only: set[str] | None = None) -> tuple[str, dict[str, Path]]:
    """One pass (as ``executor.step_pass``, which it replaces for such a backend; ``only`` is
    not used: the orchestrator says what changed): the pipeline run's status and the result
    files of its active steps' runs."""
    snap = _load(ctx, run_id)
    if snap["status"] in PIPELINE_DONE and not any(
            r["status"] in ACTIVE for r in snap["steps"].values()):
        return snap["status"], {}
    advance(backend, ctx, run_id)
    snap = _load(ctx, run_id)
    return snap["status"], {r["run_id"]: ctx.home / "runs" / r["run_id"] / "result.json"
                            for r in snap["steps"].values()
                            if r["status"] in ACTIVE and r["run_id"]}


def advance(backend: Backend, ctx: ShipContext, run_id: str) -> None:
    names = files_of(backend)
    with try_lock(folder(ctx, run_id) / names.lock) as mine:
        if not mine:
            return
        path = folder(ctx, run_id) / names.state
        state: dict[str, Any] = read_json(path) or {}
        snap = _load(ctx, run_id)
        try:
            _advance(backend, ctx, run_id, snap, state)
        finally:
            atomic_write_json(path, state)


def _advance(backend: Backend, ctx: ShipContext, run_id: str, snap: dict[str, Any],
             state: dict[str, Any]) -> None:
    active = [r for r in snap["steps"].values() if r["status"] in ACTIVE]
    if snap["status"] in ("succeeded", "failed") and not active:
        return
    if snap["status"] == "cancelled":
        _cancelled(backend, ctx, run_id, snap, state)
        return
    phase = state.get("phase")
    if phase is None:  # the caller started the run: say at once when the backend cannot take it
        ok, reason = backend.available()
        if not ok:
            why = f"backend {backend.name!r} is not available: {reason}"
            _fail(backend, ctx, run_id, snap, why, "BackendUnavailable")
            raise BackendUnavailable(why)
        _set_run(ctx, run_id, ("queued",), status="running", started_at=utcnow())
        state["phase"] = "new"
        return
    if phase == "new":
        if not _deploy(backend, ctx, run_id, snap, state):
            return
    if state["phase"] == "deploying":
        if not _trigger(backend, ctx, run_id, snap, state):
            return
    if time.time() - float(state.get("synced") or 0) < MIN_SYNC:
        return
    try:
        _mirror(backend, ctx, run_id, snap, state)
    except BackendUnavailable as exc:  # the orchestrator away for a while: the steps wait
        log(backend, ctx, run_id, f"[ml-ship] {exc.message}")
    state["synced"] = time.time()


def _deploy(backend: Backend, ctx: ShipContext, run_id: str, snap: dict[str, Any],
            state: dict[str, Any]) -> bool:
    try:
        deployment = pipeline_deployment(ctx, snap["name"], snap["version"])
        ref = backend.deploy_pipeline(deployment, run_id, lambda line: log(backend, ctx, run_id, line))
    except ShipError as exc:
        _fail(backend, ctx, run_id, snap, f"could not deploy the DAG: {exc.message}", "DeployFailed")
        return False
    log(backend, ctx, run_id, f"[ml-ship] DAG {ref['dag_id']} "
                      f"{'written to' if ref['changed'] else 'is in'} {ref['path']}")
    state.update(phase="deploying", dag_id=ref["dag_id"], dag_run_id=ref["dag_run_id"],
                 file=ref["file"], deadline=ref["deadline"])
    return True


def _trigger(backend: Backend, ctx: ShipContext, run_id: str, snap: dict[str, Any],
             state: dict[str, Any]) -> bool:
    try:
        run = backend.try_trigger(state["dag_id"], state["file"], state["dag_run_id"],
                                  snap["params"], state["deadline"])
    except BackendUnavailable as exc:
        if "cannot import" in exc.message or "did not load" in exc.message:
            _fail(backend, ctx, run_id, snap, exc.message, "DeployFailed")
        return False
    if run is None:
        return False
    state["phase"] = "triggered"
    log(backend, ctx, run_id, f"[ml-ship] triggered DAG run {state['dag_run_id']}: "
                      f"{backend.ui_url(state['dag_id'], state['dag_run_id'])}")
    return True


def _mirror(backend: Backend, ctx: ShipContext, run_id: str, snap: dict[str, Any],
            state: dict[str, Any]) -> None:
    dag_id, dr_id = state["dag_id"], state["dag_run_id"]
    seen: PipelineObservation | None = backend.observe_pipeline_run(dag_id, dr_id)
    if seen is None:
        _fail(backend, ctx, run_id, snap,
              f"DAG run {dr_id} of {dag_id} is gone from {backend.label}")
        return
    for sid in _order(snap["spec"]):
        row, ti = snap["steps"][sid], seen.tasks.get(sid) or TaskObservation()
        if row["status"] in DONE:
            continue
        if row["run_id"] is None and not _adopt(ctx, run_id, sid, row):
            deps = snap["spec"]["steps"][sid].get("depends_on") or []
            if any(snap["steps"][d]["status"] not in DONE for d in deps):
                continue  # an upstream run is still being synced: its outcome comes first
            if ti.state in NEVER_RUN:
                why = _why_skipped(backend, snap, sid)
                _set_step(ctx, row, ("pending", "queued", "starting"), status="skipped",
                          ended_at=utcnow(), error={"message": why, "ename": "Skipped"})
                continue
            if ti.state in NOT_STARTED:
                if ti.state in ("scheduled", "queued"):
                    _set_step(ctx, row, ("pending",), status="queued")
                continue
            if not _record(backend, ctx, run_id, snap, sid, row, dag_id, dr_id):
                continue
        _follow(ctx, row, ti)
    if seen.done:
        _conclude(backend, ctx, run_id, snap, seen.state or "")


def _order(spec: dict[str, Any]) -> list[str]:
    """Step ids, every one after its dependencies (upstream outputs are mirrored first)."""
    done: list[str] = []
    steps = spec["steps"]
    while len(done) < len(steps):
        for sid, st in steps.items():
            if sid not in done and all(d in done for d in st.get("depends_on") or []):
                done.append(sid)
    return done


def _why_skipped(backend: Backend, snap: dict[str, Any], sid: str) -> str:
    deps = snap["spec"]["steps"][sid].get("depends_on") or []
    bad = [d for d in deps if snap["steps"][d]["status"] in DONE
           and snap["steps"][d]["status"] != "succeeded"]
    return f"upstream step {bad[0]} {snap['steps'][bad[0]]['status']}" if bad else \
        f"{backend.label} did not run this task"


def _adopt(ctx: ShipContext, run_id: str, sid: str, row: dict[str, Any]) -> bool:
    """A run recorded for the step by a process that died before linking it (or a lost claim)."""
    if row["status"] != "starting":
        return False
    with ctx.store.session() as s:
        found = s.scalars(select(Run.id).where(Run.pipeline_run_id == run_id,
                                               Run.step == sid)).first()
    if found is not None:
        return _set_step(ctx, row, ("starting",), run_id=found)
    claimed = row["claimed_at"] or utcnow()
    if datetime.now(timezone.utc) - claimed > STALE_CLAIM:
        _set_step(ctx, row, ("starting",), status="pending", claimed_at=None)
    return False


class _SharedFiles(dict[str, str]):
    """An upstream step's files where its task left them in the orchestrator's shared storage
    (the path rendered into the step's parameters there, seen from this machine)."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def __missing__(self, path: str) -> str:
        return str(self.folder / path)


def _record(backend: Backend, ctx: ShipContext, run_id: str, snap: dict[str, Any], sid: str,
            row: dict[str, Any], dag_id: str, dr_id: str) -> bool:
    """The step's task started in the orchestrator: record a run for it (our log, status,
    outputs), bound to that task (``Backend.bind_task``)."""
    if not _set_step(ctx, row, ("pending", "queued"), status="starting", claimed_at=utcnow()):
        return False
    st = snap["spec"]["steps"][sid]
    upstream = {d: snap["steps"][d]["outputs"] for d in snap["steps"] if d != sid}
    try:
        dirs = {d: backend.step_files_dir(dag_id, dr_id, d) for d in upstream}
        files = {d: _SharedFiles(p) for d, p in dirs.items() if p is not None}
        params = templates.render(st.get("parameters") or {},
                                  templates.context(snap["params"], upstream, files),
                                  f"steps.{sid}.parameters")
        overrides = {k: st[k] for k in ("retries", "timeout") if st.get(k) is not None}
        overrides.update(backend.bind_task(dag_id, dr_id, sid))
        run = ctx.run(st["job"], st["version"], params, backend.name, pipeline_run_id=run_id,
                      step=sid, overrides=overrides)
    except ShipError as exc:
        _set_step(ctx, row, ("starting",), status="failed", ended_at=utcnow(),
                  error={"message": f"could not record the step: {exc.message}",
                         "ename": type(exc).__name__})
        return False
    _set_step(ctx, row, ("starting",), status=run.status, run_id=run.id,
              started_at=run.started_at, parameters=params)
    return True


def _follow(ctx: ShipContext, row: dict[str, Any], ti: TaskObservation | None = None) -> None:
    """The step's run, reconciled (which syncs its task from the orchestrator), into the step (which
    starts when its task did: the run is recorded a moment later)."""
    run = ctx.get_run(row["run_id"])
    if run.status == row["status"]:
        return
    started = ti.start_date if ti is not None else None
    values: dict[str, Any] = {"status": run.status, "started_at": run.started_at}
    if started:
        values["started_at"] = datetime.fromisoformat(str(started).replace("Z", "+00:00"))
    if run.status in DONE:
        values.update(outputs=run.outputs, ended_at=run.ended_at or utcnow(),
                      error=run.error.model_dump(exclude_none=True) if run.error else None)
    _set_step(ctx, row, ("pending",) + ACTIVE, **values)


def _conclude(backend: Backend, ctx: ShipContext, run_id: str, snap: dict[str, Any],
              dag_state: str) -> None:
    """The DAG run ended: steps it never started are skipped; the pipeline run ends with it."""
    if any(r["run_id"] and r["status"] not in DONE for r in snap["steps"].values()):
        return  # a step's run is still being synced: next time
    for row in _order_rows(snap):
        if row["run_id"] is None and row["status"] not in DONE:
            why = _why_skipped(backend, snap, row["step"]) if dag_state == "failed" else \
                f"the DAG run ended ({dag_state}) before it ran"
            _set_step(ctx, row, ("pending", "queued"), status="skipped", ended_at=utcnow(),
                      error={"message": why, "ename": "Skipped"})
    rows = snap["steps"]
    if any(r["status"] not in DONE for r in rows.values()):
        return  # a step's run is still being synced: next time
    bad = [sid for sid, r in rows.items() if r["status"] != "succeeded"]
    failed = [sid for sid in bad if rows[sid]["status"] != "skipped"] or bad
    error = None
    if failed or dag_state != "success":
        sid = failed[0] if failed else None
        why = f"the DAG run failed in {backend.label}"
        if sid is not None:
            with ctx.store.session() as s:
                step = s.get(PipelineStep, rows[sid]["id"])
                assert step is not None  # read by _load in this pass; goes only with its run
                why = f"step {sid} {step.status}: " + ((step.error or {}).get("message") or "")
        error = {"message": why.rstrip(": "), "ename": "StepFailed"}
    _set_run(ctx, run_id, ("queued", "running"), status="failed" if error else "succeeded",
             ended_at=utcnow(), error=error)


def _order_rows(snap: dict[str, Any]) -> list[dict[str, Any]]:
    return [snap["steps"][sid] for sid in _order(snap["spec"])]


def _cancelled(backend: Backend, ctx: ShipContext, run_id: str, snap: dict[str, Any],
               state: dict[str, Any]) -> None:
    """A cancelled pipeline run: the DAG run is stopped, the steps' runs are cancelled."""
    _stop_dag_run(backend, ctx, run_id, state)
    for row in snap["steps"].values():
        if row["run_id"] is None:
            _set_step(ctx, row, ("pending", "queued", "starting"), status="cancelled",
                      ended_at=utcnow(), error={"message": "the pipeline run was cancelled",
                                                "ename": "Cancelled"})
        elif row["status"] in ACTIVE:
            try:
                ctx.cancel(row["run_id"])
                _follow(ctx, row)
            except ShipError as exc:  # the orchestrator away: the step ends here all the same
                _set_step(ctx, row, ACTIVE, status="cancelled", ended_at=utcnow(), error={
                    "message": f"the pipeline run was cancelled ({exc.message})",
                    "ename": "Cancelled"})


def _stop_dag_run(backend: Backend, ctx: ShipContext, run_id: str,
                  state: dict[str, Any]) -> None:
    """Mark the DAG run failed in the orchestrator (once), or make sure it is never
    triggered."""
    if state.get("phase") != "triggered":
        state["phase"] = "cancelled"
        return
    if not state.get("stopped"):
        backend.stop_pipeline_run(state["dag_id"], state["dag_run_id"])
        state["stopped"] = True
        log(backend, ctx, run_id, f"[ml-ship] cancelled: DAG run {state['dag_run_id']} marked failed")


# ---- cancel ---------------------------------------------------------------------------------


def cancel(backend: Backend, ctx: ShipContext, run_id: str) -> None:
    """Stop the pipeline's DAG run there (when another process is advancing the run, it
    does so on its next pass: it sees the run cancelled); steps with no run are cancelled."""
    for row in _load(ctx, run_id)["steps"].values():
        if row["run_id"] is None:
            _set_step(ctx, row, ("queued", "starting"), status="cancelled", ended_at=utcnow(),
                      error={"message": "the pipeline run was cancelled", "ename": "Cancelled"})
    names = files_of(backend)
    with try_lock(folder(ctx, run_id) / names.lock) as mine:
        if not mine:
            return
        path = folder(ctx, run_id) / names.state
        state: dict[str, Any] = read_json(path) or {}
        try:
            _stop_dag_run(backend, ctx, run_id, state)
        finally:
            atomic_write_json(path, state)
