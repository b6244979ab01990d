"""Scheduling a pipeline run: ``step_pass()`` moves it forward from what the store says.

A pass is idempotent and safe from several processes at once (a scheduler process, the
server's reconciler, a CLI following the run): a step leaves ``pending`` only through a
conditional UPDATE (``WHERE status = 'pending'``), so exactly one caller starts it. All state is
in the store, so a new process picks up where a dead one stopped. Each pass costs a few
transactions whatever the number of steps it starts: claims, cache look-ups and the recording
of started runs are batched. A backend that schedules pipeline runs itself is followed by
``mirror.step_pass`` instead (``pipeline_runs.scheduling_of`` chooses, from its capability).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from ...errors import BadInput, Conflict, NotFound, ShipError
from ...models import TERMINAL_STATUSES
from ...pipelines import templates
from ...pipelines.models import (
    PIPELINE_DONE,
    STEP_ACTIVE,
    STEP_BLOCKING,
    STEP_DONE,
)
from ...store.schema import PipelineRun, PipelineStep, Run, utcnow
from ..checks.pipeline import degraded_stops
from ..context import RunRequest, ShipContext

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

    from ...models import RunInfo

#: a step claimed this long ago with no run recorded was lost by a dying process: retry it
STALE_CLAIM = timedelta(seconds=60)
#: ``error.ename`` of a run whose starter died before the backend got it
NEVER_STARTED = "NeverStarted"


def cache_key(digest: str, parameters: dict[str, Any]) -> str:
    """Steps with the same job version and resolved parameters give the same outputs."""
    payload = json.dumps({"digest": digest, "parameters": parameters}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def step_pass(ctx: ShipContext, run_id: str,
              only: set[str] | None = None) -> tuple[str, dict[str, Path]]:
    """One scheduling pass; ``only``: reconcile just these runs (those known to have ended).

    Returns the pipeline run's status and the result files of its active runs (what the
    scheduler process watches until the next pass).
    """
    with ctx.store.session() as s:
        pr = s.get(PipelineRun, run_id, options=[joinedload(PipelineRun.version),
                                                 selectinload(PipelineRun.steps)])
        if pr is None:
            raise NotFound(f"no pipeline run with id {run_id!r}")
        status, spec = pr.status, pr.version.spec
        rows = {st.step: st for st in pr.steps}
        if status in PIPELINE_DONE and not any(r.status in STEP_ACTIVE for r in rows.values()):
            return status, {}
        steps = {sid: _Snap(r) for sid, r in rows.items()}
        settings: dict[str, Any] = dict(params=pr.parameters, backend=pr.backend,
                                        parallelism=pr.parallelism, use_cache=pr.use_cache)
    # the follow-up of the steps' runs that ended (promotion, listeners) waits until the
    # steps they made ready have started: a chain's next step does not wait for it
    with ctx.after_runs_deferred():
        _refresh(ctx, run_id, [x for x in steps.values() if x.status in STEP_ACTIVE and (
            only is None or x.run_id is None or x.run_id in only)],
            cancelled=status == "cancelled")
        if status == "queued":
            with ctx.store.session() as s:
                s.execute(update(PipelineRun).where(PipelineRun.id == run_id,
                                                    PipelineRun.status == "queued")
                          .values(status="running", started_at=utcnow()))
            status = "running"
        if status == "running":
            # a cached step ends at once and may make its descendants ready: plan until stable
            while _plan(ctx, run_id, spec, steps, settings):
                pass
            status = _finish_if_done(ctx, run_id, spec, steps) or status
    return status, _result_files(ctx, steps)


def _result_files(ctx: ShipContext, steps: dict[str, _Snap]) -> dict[str, Path]:
    """The result files of the active steps' runs (what the scheduler process watches): every
    backend brings its run's ``result.json`` to ``HOME/runs/ID/`` (see ``JobRunsMixin.run``)."""
    return {x.run_id: ctx.home / "runs" / x.run_id / "result.json"
            for x in steps.values() if x.status in STEP_ACTIVE and x.run_id}


def _plan(ctx: ShipContext, run_id: str, spec: dict[str, Any], steps: dict[str, _Snap],
          settings: dict[str, Any]) -> bool:
    """Skip blocked steps, start ready ones; True if some step ended without occupying a slot."""
    stops = degraded_stops(ctx.store, spec, steps)  # on_degraded: stop (core.checks)
    for sid in _topological(spec):  # an upstream step is marked before its descendants
        snap, deps = steps[sid], spec["steps"][sid].get("depends_on") or []
        blocked = [d for d in deps if steps[d].status in STEP_BLOCKING or d in stops]
        if snap.status == "pending" and blocked:
            why = f"upstream step {blocked[0]} " + (
                "degraded" if blocked[0] in stops else steps[blocked[0]].status)
            _move(ctx, snap, "pending", "skipped", error={"message": why, "ename": "Skipped"},
                  ended_at=utcnow())
    free = settings["parallelism"] - sum(1 for x in steps.values() if x.status in STEP_ACTIVE)
    ready = _ready(spec, steps)
    if not ready or (free <= 0 and not settings["use_cache"]):
        return False
    resolved = {}
    for sid in ready:
        params = _resolve(ctx, spec, steps, sid, settings)
        if params is not None:
            resolved[sid] = (params, cache_key(spec["steps"][sid]["digest"], params))
    changed = len(resolved) < len(ready)  # a step failed on its parameters
    cacheable = {sid: v for sid, v in resolved.items() if spec["steps"][sid].get("cache", True)}
    if settings["use_cache"] and cacheable:
        hits = _cached(ctx, steps, cacheable)
        changed = changed or bool(hits)
        resolved = {sid: v for sid, v in resolved.items() if sid not in hits}
    claimed = _claim(ctx, steps, dict(list(resolved.items())[:max(free, 0)]))
    started = _start(ctx, run_id, spec, steps, claimed, settings)
    _record_started(ctx, run_id, steps, [(sid, run) for sid, run in started if run])
    return changed or any(run is None for _, run in started)


def _resolve(ctx: ShipContext, spec: dict[str, Any], steps: dict[str, _Snap], sid: str,
             settings: dict[str, Any]) -> dict[str, Any] | None:
    """A ready step's parameters with templates resolved; None (and the step failed) if not."""
    names = _upstream(spec, sid)
    upstream = {d: steps[d].outputs for d in names}
    parameters = spec["steps"][sid].get("parameters") or {}
    try:
        return templates.render(parameters,
                                templates.context(settings["params"], upstream,
                                                  _files_of(ctx, steps, names)
                                                  if _reads_files(parameters) else None),
                                f"steps.{sid}.parameters")
    except BadInput as exc:
        _move(ctx, steps[sid], "pending", "failed", ended_at=utcnow(),
              error={"message": exc.message, "ename": "ParameterError"})
        return None


def _cached(ctx: ShipContext, steps: dict[str, _Snap],
            resolved: dict[str, tuple[dict[str, Any], str]]) -> set[str]:
    """Steps whose (job version, parameters) succeeded before: they succeed at once with the
    earlier outputs (and run id), marked ``cached``."""
    keys = {key for _, key in resolved.values()}
    done: set[str] = set()
    now = utcnow()
    with ctx.store.session() as s:
        rows = s.execute(select(PipelineStep.cache_key, PipelineStep.run_id, PipelineStep.outputs)
                         .where(PipelineStep.cache_key.in_(keys),
                                PipelineStep.status == "succeeded")
                         .order_by(PipelineStep.ended_at)).all()
        earlier = {key: (rid, outputs) for key, rid, outputs in rows}  # the latest wins
        for sid, (params, key) in resolved.items():
            if key not in earlier:
                continue
            rid, outputs = earlier[key]
            moved = cast("CursorResult[Any]", s.execute(update(PipelineStep).where(
                PipelineStep.id == steps[sid].id, PipelineStep.status == "pending",
            ).values(status="succeeded", cached=True, cache_key=key, parameters=params,
                     run_id=rid, outputs=outputs or {}, started_at=now, ended_at=now))).rowcount
            done.add(sid)
            if moved:
                steps[sid].status, steps[sid].outputs = "succeeded", dict(outputs or {})
                steps[sid].run_id = rid
            else:  # another process moved it: the next pass reads what it became
                steps[sid].status = "starting"
    return done


def _claim(ctx: ShipContext, steps: dict[str, _Snap],
           resolved: dict[str, tuple[dict[str, Any], str]]) -> list[tuple[str, dict[str, Any]]]:
    """``pending → starting`` for each step, in one transaction; the steps this caller won."""
    won = []
    with ctx.store.session() as s:
        for sid, (params, key) in resolved.items():
            if cast("CursorResult[Any]", s.execute(update(PipelineStep).where(
                PipelineStep.id == steps[sid].id, PipelineStep.status == "pending",
            ).values(status="starting", claimed_at=utcnow(), parameters=params,
                     cache_key=key))).rowcount:
                won.append((sid, params))
    for sid in resolved:  # the steps lost to another process count as started elsewhere
        steps[sid].status = "starting"
    return won


def _start(ctx: ShipContext, run_id: str, spec: dict[str, Any], steps: dict[str, _Snap],
           claimed: list[tuple[str, dict[str, Any]]], settings: dict[str, Any]
           ) -> list[tuple[str, RunInfo | None]]:
    """Start the claimed steps' runs together (one store transaction records them all); a step
    that cannot start fails (its run is None) and its branch is skipped."""
    requests = []
    for sid, params in claimed:
        st = spec["steps"][sid]
        requests.append(RunRequest(
            st["job"], st["version"], params, st.get("backend") or settings["backend"],
            pipeline_run_id=run_id, step=sid,
            overrides={k: st[k] for k in ("retries", "timeout", "spark") if st.get(k) is not None},
            inputs=_file_inputs(ctx, spec, steps, sid)))
    started: list[tuple[str, RunInfo | None]] = []
    for (sid, _), run in zip(claimed, ctx.start_runs(requests) if requests else []):
        if isinstance(run, Exception):
            message = run.message if isinstance(run, ShipError) else f"{type(run).__name__}: {run}"
            _move(ctx, steps[sid], "starting", "failed", ended_at=utcnow(),
                  error={"message": f"could not start: {message}", "ename": type(run).__name__})
            started.append((sid, None))
        else:
            started.append((sid, run))
    return started


def _record_started(ctx: ShipContext, run_id: str, steps: dict[str, _Snap],
                    started: list[tuple[str, Any]]) -> None:
    """Record the runs of started steps; stop them if the pipeline run was cancelled meanwhile."""
    if not started:
        return
    with ctx.store.session() as s:
        for sid, run in started:
            s.execute(update(PipelineStep).where(PipelineStep.id == steps[sid].id)
                      .values(run_id=run.id, started_at=run.started_at))
            s.execute(update(PipelineStep).where(PipelineStep.id == steps[sid].id,
                                                 PipelineStep.status == "starting")
                      .values(status=run.status))
            steps[sid].run_id, steps[sid].status = run.id, run.status
        cancelled = s.scalar(select(PipelineRun.status).where(PipelineRun.id == run_id)) \
            == "cancelled"
    if cancelled:  # cancel() ran while these steps were being started
        _refresh(ctx, run_id, [steps[sid] for sid, _ in started], cancelled=True)


class _Snap:
    """What advance() knows of a step row (read in one session, updated as it goes)."""

    def __init__(self, row: PipelineStep):
        self.id, self.step, self.status = row.id, row.step, row.status
        self.run_id, self.outputs = row.run_id, dict(row.outputs or {})
        self.claimed_at = row.claimed_at


def _pipeline_run(s: Any, run_id: str) -> PipelineRun:
    pr = s.get(PipelineRun, run_id)
    if pr is None:
        raise NotFound(f"no pipeline run with id {run_id!r}")
    return pr


def _move(ctx: ShipContext, snap: _Snap, old: str | tuple[str, ...], new: str,
          **values: Any) -> bool:
    """``old → new`` only if the row is still ``old`` (the guard that makes advance safe)."""
    olds = (old,) if isinstance(old, str) else old
    with ctx.store.session() as s:
        done = cast("CursorResult[Any]", s.execute(
            update(PipelineStep).where(PipelineStep.id == snap.id, PipelineStep.status.in_(olds))
            .values(status=new, **values))).rowcount
    if done:
        snap.status = new
    return bool(done)


def _refresh(ctx: ShipContext, run_id: str, snaps: list[_Snap], cancelled: bool) -> None:
    """Bring active steps up to date with their runs (adopting or releasing lost claims)."""
    for snap in [x for x in snaps if x.run_id is None]:
        with ctx.store.session() as s:
            found = next((rid for rid, error in s.execute(
                select(Run.id, Run.error).where(Run.pipeline_run_id == run_id,
                                                Run.step == snap.step).order_by(Run.id.desc()))
                if (error or {}).get("ename") != NEVER_STARTED), None)
            if found is not None:
                s.execute(update(PipelineStep).where(PipelineStep.id == snap.id,
                                                     PipelineStep.run_id.is_(None))
                          .values(run_id=found))
        if found is not None:
            snap.run_id = found
        elif datetime.now(timezone.utc) - (snap.claimed_at or utcnow()) > STALE_CLAIM:
            _move(ctx, snap, "starting", "pending", claimed_at=None)
    snaps = [x for x in snaps if x.run_id is not None]
    for snap in list(snaps):
        assert snap.run_id is not None  # the snaps without a run were left out just above
        ctx.reconcile(snap.run_id)
        # only a run still queued can be one its starter never handed to a backend
        if snap.status in ("starting", "queued") and _fail_if_never_started(ctx, snap.run_id):
            _move(ctx, snap, tuple(STEP_ACTIVE), "pending", run_id=None, claimed_at=None)
            snap.run_id = None
            snaps.remove(snap)
            continue
        if cancelled:
            try:
                ctx.cancel(snap.run_id)
            except Conflict:  # it ended meanwhile
                pass
    if not snaps:
        return
    with ctx.store.session() as s:
        runs = {r.id: r for r in s.scalars(select(Run).where(
            Run.id.in_([x.run_id for x in snaps])))}
        for snap in snaps:
            assert snap.run_id is not None  # as above: a snap set to no run left the list
            run = runs.get(snap.run_id)
            if run is None or run.status == snap.status:
                continue
            values: dict[str, Any] = {"status": run.status, "started_at": run.started_at}
            if run.status in TERMINAL_STATUSES:
                values.update(outputs=run.outputs or {}, ended_at=run.ended_at or utcnow(),
                              error=run.error)
            moved = cast("CursorResult[Any]", s.execute(update(PipelineStep).where(
                PipelineStep.id == snap.id, PipelineStep.status.in_(STEP_ACTIVE),
            ).values(**values))).rowcount
            if moved:
                snap.status, snap.outputs = run.status, dict(run.outputs or {})


def _fail_if_never_started(ctx: ShipContext, run_id: str) -> bool:
    """A run recorded but never handed to its backend (its starter died in between) would stay
    ``queued`` forever: after ``STALE_CLAIM`` it fails (True)."""
    with ctx.store.session() as s:
        run = s.get(Run, run_id)
        stuck = run is not None and run.status == "queued" and not run.backend_ref and \
            datetime.now(timezone.utc) - run.created_at > STALE_CLAIM
    if stuck:
        ctx.finish_run(run_id, "failed", {"message": "never started: the process starting it "
                                       "stopped first", "ename": NEVER_STARTED})
    return stuck


def _ready(spec: dict[str, Any], steps: dict[str, _Snap]) -> list[str]:
    return [sid for sid, st in spec["steps"].items() if steps[sid].status == "pending"
            and all(steps[d].status == "succeeded" for d in st.get("depends_on") or [])]


def _topological(spec: dict[str, Any]) -> list[str]:
    done: list[str] = []
    while len(done) < len(spec["steps"]):
        for sid, st in spec["steps"].items():
            if sid not in done and all(d in done for d in st.get("depends_on") or []):
                done.append(sid)
    return done


def _reads_files(parameters: dict[str, Any]) -> bool:
    """Whether a step's parameters may name an upstream file (``steps.X.files[...]``): a cheap
    look before parsing its templates (most steps read none)."""
    return ".files" in json.dumps(parameters)


def _files_of(ctx: ShipContext, steps: dict[str, _Snap],
              names: set[str]) -> dict[str, dict[str, str]]:
    """The files upstream steps wrote: step -> {path: where to read it}."""
    out: dict[str, dict[str, str]] = {}
    for d in names:
        run_id = steps[d].run_id
        if run_id:
            base = ctx.run_artifacts_dir(run_id)
            out[d] = {f.path: str(base / f.path) for f in ctx.run_files(run_id).files}
    return out


def _file_inputs(ctx: ShipContext, spec: dict[str, Any], steps: dict[str, _Snap],
                 sid: str) -> list[dict[str, Any]]:
    """What a step reads of its upstream steps' files (shown on its run: where each came from)."""
    parameters = spec["steps"][sid].get("parameters") or {}
    if not _reads_files(parameters):
        return []
    refs = [(spot, r) for spot, r in templates.find_refs(parameters, f"steps.{sid}.parameters")
            if r.kind == "files"]
    if not refs:
        return []
    files = _files_of(ctx, steps, {r.name for _, r in refs})
    return [{"parameter": spot.split(".")[3].split("[")[0], "file": r.output,
             "path": files[r.name][r.output or ""], "run_id": steps[r.name].run_id,
             "step": r.name, "job": spec["steps"][r.name]["job"]}
            for spot, r in refs if (r.output or "") in files.get(r.name, {})]


def _upstream(spec: dict[str, Any], sid: str) -> set[str]:
    seen: set[str] = set()
    todo = list(spec["steps"][sid].get("depends_on") or [])
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(spec["steps"][d].get("depends_on") or [])
    return seen


def _finish_if_done(ctx: ShipContext, run_id: str, spec: dict[str, Any],
                    steps: dict[str, _Snap]) -> str | None:
    """The final status once every step ended (None before)."""
    if not all(x.status in STEP_DONE for x in steps.values()):
        return None
    bad = [sid for sid in spec["steps"] if steps[sid].status in STEP_BLOCKING - {"skipped"}]
    error = None
    if bad:
        with ctx.store.session() as s:
            row = s.get(PipelineStep, steps[bad[0]].id)
            assert row is not None  # read in this pass; goes only with its pipeline run
            why = (row.error or {}).get("message") or steps[bad[0]].status
        error = {"message": f"step {bad[0]} {steps[bad[0]].status}: {why}", "ename": "StepFailed"}
    stops = {} if bad else degraded_stops(ctx.store, spec, steps)
    if stops:  # on_degraded: stop
        first = next(sid for sid in spec["steps"] if sid in stops)
        error = {"message": f"step {first} degraded: {stops[first]}", "ename": "StepDegraded"}
    final = "failed" if bad or stops else "succeeded"
    with ctx.store.session() as s:
        s.execute(update(PipelineRun)
                  .where(PipelineRun.id == run_id, PipelineRun.status.in_(("queued", "running")))
                  .values(status=final, ended_at=utcnow(), error=error))
    return final

