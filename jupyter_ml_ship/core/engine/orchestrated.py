"""A pipeline run an orchestrating backend schedules (Airflow), applied to our records by core.

With such a backend a pipeline version is one DAG and a pipeline run is one DAG run: the
backend decides what runs when, and ``advance`` (called by the executor instead of its own
planning, from the pipeline's scheduler process, the server, the agent or a CLI, any number of
times) follows it. The backend only talks to the orchestrator and reports what it sees
(``Backend.observe_pipeline_run`` gives a typed ``PipelineObservation``); every write to the
pipeline run and its steps is made here, in core:

1. ``new``: the run is marked running and nothing slow happens (the caller may be a request);
2. ``deploying``: the step images are built (docker operator), the DAG file is written, and the
   DAG run is triggered with the pipeline parameters as its conf once Airflow has loaded it;
3. ``triggered``: a step whose task started gets a run of its own (backend ``airflow``, the same
   run records as on any backend: log, status, outputs, output notebook), followed through
   ``AirflowBackend.collect``; a task Airflow skipped is a ``skipped`` step; the pipeline run
   ends with the DAG run.

Progress of the deploy goes to ``HOME/pipeline-runs/<id>/airflow.log``. One process advances a
pipeline run at a time (``airflow.lock``); the others return at once.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update

from ...backends.base import PipelineObservation, TaskObservation
from ...errors import BackendUnavailable, ShipError
from ...store.files import atomic_write_json, read_json, try_lock
from ...store.schema import PipelineRun, PipelineStep, Run, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

    from ...backends.base import Backend
    from ..service import ShipService

#: the state file of a pipeline run's mirror (in its folder), and its lock
STATE, LOCK = "airflow.json", "airflow.lock"
#: seconds between two looks at Airflow for one pipeline run
MIN_SYNC = 1.0
#: a step claimed this long ago with no run recorded was lost by a dying process
STALE_CLAIM = timedelta(seconds=60)
ACTIVE = ("starting", "queued", "building", "running")
DONE = ("succeeded", "failed", "cancelled", "timed_out", "skipped")
NOT_STARTED = (None, "none", "scheduled", "queued")  # the orchestrator's task states
NEVER_RUN = ("upstream_failed", "skipped", "removed")


def folder(svc: ShipService, run_id: str) -> Path:
    return svc.home / "pipeline-runs" / run_id


def _log(svc: ShipService, run_id: str, line: str) -> None:
    path = folder(svc, run_id) / "airflow.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")


# ---- the store ------------------------------------------------------------------------------


def _load(svc: ShipService, run_id: str) -> dict[str, Any]:
    with svc.store.session() as s:
        pr = s.get(PipelineRun, run_id)
        assert pr is not None  # the caller (executor.step_pass) has just read it
        return {
            "status": pr.status, "name": pr.pipeline.name, "version": pr.version_number,
            "params": dict(pr.parameters or {}), "spec": dict(pr.version.spec),
            "steps": {r.step: {"id": r.id, "step": r.step, "status": r.status, "run_id": r.run_id,
                               "outputs": dict(r.outputs or {}), "claimed_at": r.claimed_at}
                      for r in pr.steps},
        }


def _set_step(svc: ShipService, row: dict[str, Any], olds: tuple[str, ...],
              **values: Any) -> bool:
    """Update a step only if it is still in one of ``olds`` (several processes may try)."""
    with svc.store.session() as s:
        done = cast("CursorResult[Any]", s.execute(
            update(PipelineStep).where(PipelineStep.id == row["id"], PipelineStep.status.in_(olds))
            .values(**values))).rowcount
    if done:
        row.update({k: v for k, v in values.items() if k in ("status", "run_id", "outputs")})
    return bool(done)


def _set_run(svc: ShipService, run_id: str, olds: tuple[str, ...], **values: Any) -> None:
    with svc.store.session() as s:
        s.execute(update(PipelineRun).where(PipelineRun.id == run_id,
                                            PipelineRun.status.in_(olds)).values(**values))


def _fail(svc: ShipService, run_id: str, snap: dict[str, Any], message: str,
          ename: str = "AirflowError") -> None:
    """The pipeline run failed on the Airflow side before (some of) its steps ran."""
    _log(svc, run_id, f"[ml-ship] pipeline run failed: {message}")
    for row in snap["steps"].values():
        if row["run_id"] is None:
            _set_step(svc, row, ("pending", "queued", "starting"), status="skipped",
                      ended_at=utcnow(), error={"message": f"not run: {message}",
                                                "ename": "Skipped"})
    _set_run(svc, run_id, ("queued", "running"), status="failed", ended_at=utcnow(),
             error={"message": message, "ename": ename})


# ---- advance --------------------------------------------------------------------------------


def advance(backend: Backend, svc: ShipService, run_id: str) -> None:
    with try_lock(folder(svc, run_id) / LOCK) as mine:
        if not mine:
            return
        path = folder(svc, run_id) / STATE
        state: dict[str, Any] = read_json(path) or {}
        snap = _load(svc, run_id)
        try:
            _advance(backend, svc, run_id, snap, state)
        finally:
            atomic_write_json(path, state)


def _advance(backend: Backend, svc: ShipService, run_id: str, snap: dict[str, Any],
             state: dict[str, Any]) -> None:
    active = [r for r in snap["steps"].values() if r["status"] in ACTIVE]
    if snap["status"] in ("succeeded", "failed") and not active:
        return
    if snap["status"] == "cancelled":
        _cancelled(backend, svc, run_id, snap, state)
        return
    phase = state.get("phase")
    if phase is None:  # the caller started the run: say at once when Airflow cannot take it
        ok, reason = backend.available()
        if not ok:
            _fail(svc, run_id, snap, f"backend 'airflow' is not available: {reason}",
                  "BackendUnavailable")
            raise BackendUnavailable(f"backend 'airflow' is not available: {reason}")
        _set_run(svc, run_id, ("queued",), status="running", started_at=utcnow())
        state["phase"] = "new"
        return
    if phase == "new":
        if not _deploy(backend, svc, run_id, snap, state):
            return
    if state["phase"] == "deploying":
        if not _trigger(backend, svc, run_id, snap, state):
            return
    if time.time() - float(state.get("synced") or 0) < MIN_SYNC:
        return
    try:
        _mirror(backend, svc, run_id, snap, state)
    except BackendUnavailable as exc:  # Airflow away for a while: the steps wait
        _log(svc, run_id, f"[ml-ship] {exc.message}")
    state["synced"] = time.time()


def _deploy(backend: Backend, svc: ShipService, run_id: str, snap: dict[str, Any],
            state: dict[str, Any]) -> bool:
    try:
        deployment = pipeline_deployment(svc, snap["name"], snap["version"])
        ref = backend.deploy_pipeline(deployment, run_id, lambda line: _log(svc, run_id, line))
    except ShipError as exc:
        _fail(svc, run_id, snap, f"could not deploy the DAG: {exc.message}", "DeployFailed")
        return False
    _log(svc, run_id, f"[ml-ship] DAG {ref['dag_id']} "
                      f"{'written to' if ref['changed'] else 'is in'} {ref['path']}")
    state.update(phase="deploying", dag_id=ref["dag_id"], dag_run_id=ref["dag_run_id"],
                 file=ref["file"], deadline=time.time() + svc.settings.airflow_deploy_timeout)
    return True


def pipeline_deployment(svc: ShipService, name: str, number: int | None = None
                        ) -> dict[str, Any]:
    """What an orchestrating backend needs to deploy a pipeline version (plain data, read
    from the store here): the version and, for each step's job version, its fields."""
    from .versions import version_row

    with svc.store.session() as s:
        v = version_row(s, name, number)
        spec, number = dict(v.spec), v.number
        out: dict[str, Any] = {"name": name, "version": number, "digest": v.digest,
                               "created_at": v.created_at, "author": v.author,
                               "source": v.source_path, "spec": spec}
    out["jobs"] = {f"{st['job']}@{st['version']}": version_fields(svc, st["job"], st["version"])
                   for st in spec["steps"].values()}
    return out


def version_fields(svc: ShipService, job: str, number: int) -> dict[str, Any]:
    """What building a job version's image needs, read from the store."""
    with svc.store.session() as s:
        v = svc._version(s, job, number)
        manifest = read_json(v.project["manifest"]) if v.project else None
        notebook_dir = Path(manifest["notebook"]).parent.as_posix() if manifest else ""
        return {"job": job, "number": v.number, "digest": v.digest,
                "environment": v.environment, "environment_source": v.environment_source,
                "notebook_file": v.notebook_file, "config": dict(v.config or {}),
                "created_at": v.created_at,
                "project": {"files": manifest["files"],
                            "notebook_dir": "" if notebook_dir == "." else notebook_dir}
                if manifest else None}


def _trigger(backend: Backend, svc: ShipService, run_id: str, snap: dict[str, Any],
             state: dict[str, Any]) -> bool:
    try:
        run = backend.try_trigger(state["dag_id"], state["file"], state["dag_run_id"],
                                  snap["params"], state["deadline"])
    except BackendUnavailable as exc:
        if "cannot import" in exc.message or "did not load" in exc.message:
            _fail(svc, run_id, snap, exc.message, "DeployFailed")
        return False
    if run is None:
        return False
    state["phase"] = "triggered"
    _log(svc, run_id, f"[ml-ship] triggered DAG run {state['dag_run_id']}: "
                      f"{backend.ui_url(state['dag_id'], state['dag_run_id'])}")
    return True


def _mirror(backend: Backend, svc: ShipService, run_id: str, snap: dict[str, Any],
            state: dict[str, Any]) -> None:
    dag_id, dr_id = state["dag_id"], state["dag_run_id"]
    seen: PipelineObservation | None = backend.observe_pipeline_run(dag_id, dr_id)
    if seen is None:
        _fail(svc, run_id, snap, f"DAG run {dr_id} of {dag_id} is gone from Airflow")
        return
    for sid in _order(snap["spec"]):
        row, ti = snap["steps"][sid], seen.tasks.get(sid) or TaskObservation()
        if row["status"] in DONE:
            continue
        if row["run_id"] is None and not _adopt(svc, run_id, sid, row):
            deps = snap["spec"]["steps"][sid].get("depends_on") or []
            if any(snap["steps"][d]["status"] not in DONE for d in deps):
                continue  # an upstream run is still being synced: its outcome comes first
            if ti.state in NEVER_RUN:
                why = _why_skipped(snap, sid)
                _set_step(svc, row, ("pending", "queued", "starting"), status="skipped",
                          ended_at=utcnow(), error={"message": why, "ename": "Skipped"})
                continue
            if ti.state in NOT_STARTED:
                if ti.state in ("scheduled", "queued"):
                    _set_step(svc, row, ("pending",), status="queued")
                continue
            if not _record(backend, svc, run_id, snap, sid, row, dag_id, dr_id):
                continue
        _follow(svc, row, ti)
    if seen.done:
        _conclude(svc, run_id, snap, seen.state or "")


def _order(spec: dict[str, Any]) -> list[str]:
    """Step ids, every one after its dependencies (upstream outputs are mirrored first)."""
    done: list[str] = []
    steps = spec["steps"]
    while len(done) < len(steps):
        for sid, st in steps.items():
            if sid not in done and all(d in done for d in st.get("depends_on") or []):
                done.append(sid)
    return done


def _why_skipped(snap: dict[str, Any], sid: str) -> str:
    deps = snap["spec"]["steps"][sid].get("depends_on") or []
    bad = [d for d in deps if snap["steps"][d]["status"] in DONE
           and snap["steps"][d]["status"] != "succeeded"]
    return f"upstream step {bad[0]} {snap['steps'][bad[0]]['status']}" if bad else \
        "Airflow did not run this task"


def _adopt(svc: ShipService, run_id: str, sid: str, row: dict[str, Any]) -> bool:
    """A run recorded for the step by a process that died before linking it (or a lost claim)."""
    if row["status"] != "starting":
        return False
    with svc.store.session() as s:
        found = s.scalars(select(Run.id).where(Run.pipeline_run_id == run_id,
                                               Run.step == sid)).first()
    if found is not None:
        return _set_step(svc, row, ("starting",), run_id=found)
    claimed = row["claimed_at"] or utcnow()
    if datetime.now(timezone.utc) - claimed > STALE_CLAIM:
        _set_step(svc, row, ("starting",), status="pending", claimed_at=None)
    return False


class _SharedFiles(dict[str, str]):
    """An upstream step's files where its task left them in the orchestrator's shared storage
    (the path rendered into the step's parameters there, seen from this machine)."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def __missing__(self, path: str) -> str:
        return str(self.folder / path)


def _record(backend: Backend, svc: ShipService, run_id: str, snap: dict[str, Any], sid: str,
            row: dict[str, Any], dag_id: str, dr_id: str) -> bool:
    """The step's task started in Airflow: record a run for it (our log, status, outputs)."""
    from ...pipelines import templates

    if not _set_step(svc, row, ("pending", "queued"), status="starting", claimed_at=utcnow()):
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
        overrides["airflow_task"] = {"dag_id": dag_id, "dag_run_id": dr_id, "task_id": sid}
        run = svc.run(st["job"], st["version"], params, "airflow", pipeline_run_id=run_id,
                      step=sid, overrides=overrides)
    except ShipError as exc:
        _set_step(svc, row, ("starting",), status="failed", ended_at=utcnow(),
                  error={"message": f"could not record the step: {exc.message}",
                         "ename": type(exc).__name__})
        return False
    _set_step(svc, row, ("starting",), status=run.status, run_id=run.id,
              started_at=run.started_at, parameters=params)
    return True


def _follow(svc: ShipService, row: dict[str, Any], ti: TaskObservation | None = None) -> None:
    """The step's run, reconciled (which syncs its task from Airflow), into the step (which
    starts when its task did: the run is recorded a moment later)."""
    run = svc.get_run(row["run_id"])
    if run.status == row["status"]:
        return
    started = ti.start_date if ti is not None else None
    values: dict[str, Any] = {"status": run.status, "started_at": run.started_at}
    if started:
        values["started_at"] = datetime.fromisoformat(str(started).replace("Z", "+00:00"))
    if run.status in DONE:
        values.update(outputs=run.outputs, ended_at=run.ended_at or utcnow(),
                      error=run.error.model_dump(exclude_none=True) if run.error else None)
    _set_step(svc, row, ("pending",) + ACTIVE, **values)


def _conclude(svc: ShipService, run_id: str, snap: dict[str, Any], dag_state: str) -> None:
    """The DAG run ended: steps it never started are skipped; the pipeline run ends with it."""
    if any(r["run_id"] and r["status"] not in DONE for r in snap["steps"].values()):
        return  # a step's run is still being synced: next time
    for row in _order_rows(snap):
        if row["run_id"] is None and row["status"] not in DONE:
            why = _why_skipped(snap, row["step"]) if dag_state == "failed" else \
                f"the DAG run ended ({dag_state}) before it ran"
            _set_step(svc, row, ("pending", "queued"), status="skipped", ended_at=utcnow(),
                      error={"message": why, "ename": "Skipped"})
    rows = snap["steps"]
    if any(r["status"] not in DONE for r in rows.values()):
        return  # a step's run is still being synced: next time
    bad = [sid for sid, r in rows.items() if r["status"] != "succeeded"]
    failed = [sid for sid in bad if rows[sid]["status"] != "skipped"] or bad
    error = None
    if failed or dag_state != "success":
        sid = failed[0] if failed else None
        why = "the DAG run failed in Airflow"
        if sid is not None:
            with svc.store.session() as s:
                step = s.get(PipelineStep, rows[sid]["id"])
                assert step is not None  # read by _load in this pass; goes only with its run
                why = f"step {sid} {step.status}: " + ((step.error or {}).get("message") or "")
        error = {"message": why.rstrip(": "), "ename": "StepFailed"}
    _set_run(svc, run_id, ("queued", "running"), status="failed" if error else "succeeded",
             ended_at=utcnow(), error=error)


def _order_rows(snap: dict[str, Any]) -> list[dict[str, Any]]:
    return [snap["steps"][sid] for sid in _order(snap["spec"])]


def _cancelled(backend: Backend, svc: ShipService, run_id: str, snap: dict[str, Any],
               state: dict[str, Any]) -> None:
    """A cancelled pipeline run: the DAG run is stopped, the steps' runs are cancelled."""
    _stop_dag_run(backend, svc, run_id, state)
    for row in snap["steps"].values():
        if row["run_id"] is None:
            _set_step(svc, row, ("pending", "queued", "starting"), status="cancelled",
                      ended_at=utcnow(), error={"message": "the pipeline run was cancelled",
                                                "ename": "Cancelled"})
        elif row["status"] in ACTIVE:
            try:
                svc.cancel(row["run_id"])
                _follow(svc, row)
            except ShipError as exc:  # Airflow away: the step ends here all the same
                _set_step(svc, row, ACTIVE, status="cancelled", ended_at=utcnow(), error={
                    "message": f"the pipeline run was cancelled ({exc.message})",
                    "ename": "Cancelled"})


def _stop_dag_run(backend: Backend, svc: ShipService, run_id: str,
                  state: dict[str, Any]) -> None:
    """Mark the DAG run failed in Airflow (once), or make sure it is never triggered."""
    if state.get("phase") != "triggered":
        state["phase"] = "cancelled"
        return
    if not state.get("stopped"):
        backend.stop_pipeline_run(state["dag_id"], state["dag_run_id"])
        state["stopped"] = True
        _log(svc, run_id, f"[ml-ship] cancelled: DAG run {state['dag_run_id']} marked failed")


# ---- cancel ---------------------------------------------------------------------------------


def cancel(backend: Backend, svc: ShipService, run_id: str) -> None:
    """Stop the pipeline's DAG run in Airflow (when another process is advancing the run, it
    does so on its next pass: it sees the run cancelled); steps with no run are cancelled."""
    for row in _load(svc, run_id)["steps"].values():
        if row["run_id"] is None:
            _set_step(svc, row, ("queued", "starting"), status="cancelled", ended_at=utcnow(),
                      error={"message": "the pipeline run was cancelled", "ename": "Cancelled"})
    with try_lock(folder(svc, run_id) / LOCK) as mine:
        if not mine:
            return
        path = folder(svc, run_id) / STATE
        state: dict[str, Any] = read_json(path) or {}
        try:
            _stop_dag_run(backend, svc, run_id, state)
        finally:
            atomic_write_json(path, state)
