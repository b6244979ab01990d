"""Pipeline versions: resolving steps to job versions, content addressing, history, rollback.

A pipeline version is immutable: every step is pinned to a job version, and its digest covers
the pipeline's content (not comments or layout) plus the digests of those job versions.
Shipping unchanged content returns the existing version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from ...cron import check_schedule
from ...errors import BadInput, Conflict, InvalidPipeline, NotFound
from ...naming import name_from_path
from ...notify_spec import check_mail_server
from ...pipelines.analysis import NotebookFacts, notebook_facts, read_notebook_facts
from ...pipelines.commands import command_notebook
from ...pipelines.models import PipelineDescription, PipelineVersionInfo, StepInfo
from ...pipelines.spec import PipelineSpec, StepSpec, check_graph, load_pipeline
from ...store.schema import Event, Pipeline, PipelineVersion, utcnow
from ..access import Actor
from ..checks import parse_checks
from ..context import ShipContext
from ..convert import git_info
from ..environments import pointers
from ..provenance import git_provenance


@dataclass
class _Facts:
    job: str
    version: int | None
    notebook_path: Path | None
    facts: NotebookFacts


def _step_facts(ctx: ShipContext, spec: PipelineSpec, step: StepSpec) -> _Facts:
    """What a step's notebook offers, read from the file or the pinned job version."""
    if step.command is not None:  # outputs: what the command writes, known at run time
        job = command_job(spec, step)
        facts = notebook_facts(command_notebook(job, step.command))
        facts.outputs = None
        return _Facts(job, None, None, facts)
    if step.notebook is not None:
        path = (spec.base_dir / step.notebook).resolve()
        facts = read_notebook_facts(path, spec.where("steps", step.id, "notebook"))
        job = str(facts.config.get("name") or name_from_path(path))
        return _Facts(job, None, path, facts)
    assert step.job is not None
    try:
        info = ctx.version(step.job, step.version)
        nb_file = ctx.version_notebook(step.job, step.version)
    except NotFound as exc:
        raise BadInput(f"{spec.where('steps', step.id, 'job')}: {exc.message}") from None
    facts = notebook_facts(json.loads(Path(nb_file).read_text()))
    facts.parameters = [p.name for p in info.parameters]
    return _Facts(step.job, info.number, None, facts)


def check(ctx: ShipContext, spec: PipelineSpec) -> dict[str, _Facts]:
    """Checks that need the notebooks or the store: unknown jobs, parameters, outputs."""
    found = {sid: _step_facts(ctx, spec, step) for sid, step in spec.steps.items()}
    for sid, step in spec.steps.items():
        parse_checks(step.checks, lambda *k, sid=sid: spec.where("steps", sid, "checks", *k))
        _check_params(spec, step, found[sid].facts.parameters, found[sid].job)
        for spot, ref in step.refs:
            if ref.kind != "steps":
                continue
            declared = found[ref.name].facts.outputs
            if declared is not None and ref.output not in declared:
                key = spot.split(".")[3].split("[")[0]
                have = ", ".join(sorted(declared)) or "no outputs"
                raise BadInput(
                    f"{spec.where('steps', sid, 'parameters', key)}: {{{{ {ref} }}}}: step "
                    f"{ref.name!r} (job {found[ref.name].job}) does not record an output "
                    f"{ref.output!r} (it records: {have})"
                )
    return found


def _check_params(spec: PipelineSpec, step: StepSpec, names: list[str], job: str) -> None:
    for key in step.parameters:
        if key not in names:
            raise BadInput(
                f"{spec.where('steps', step.id, 'parameters', key)}: job {job} has no parameter "
                f"{key!r} (parameters: {', '.join(names) or 'none'})"
            )


def describe(ctx: ShipContext, path: str | Path) -> PipelineDescription:
    """A pipeline file (or folder) validated and laid out as steps; nothing shipped or run.

    A file that parses but does not validate raises ``InvalidPipeline`` with its steps as
    written (unknown upstream steps left out), so the lab draws the graph next to the message.
    """
    spec = load_pipeline(path, check_graph=False)  # YAML or structure errors: nothing to draw
    try:
        check_graph(spec)
        found = check(ctx, spec)
    except BadInput as exc:
        drawn = [_step_info(step, step.job or _job_of(step), None, None)
                 for step in spec.steps.values()]
        for info in drawn:
            info.depends_on = [d for d in info.depends_on if d in spec.steps]
        raise InvalidPipeline(exc.message, [s.model_dump(mode="json") for s in drawn]) from None
    steps = [_step_info(spec.steps[sid], found[sid].job, found[sid].version,
                        _outputs(found[sid].facts.outputs)) for sid in spec.steps]
    return PipelineDescription(name=spec.name, path=str(spec.path), parameters=spec.parameters,
                               steps=steps)


def command_job(spec: PipelineSpec, step: StepSpec) -> str:
    """The job a command step ships as: ``<pipeline>-<step>``."""
    return name_from_path(f"{spec.name}-{step.id}")


def _ship_command(ctx: ShipContext, spec: PipelineSpec, step: StepSpec, job: str,
                  **ship: Any) -> Any:
    """Ship a command step's generated notebook with the pipeline file's folder as its project
    (the file is written beside the pipeline file for the snapshot, then removed)."""
    assert step.command is not None
    path = spec.base_dir / f".ml-ship-command-{step.id}.ipynb"
    path.write_text(json.dumps(command_notebook(job, step.command), indent=1))
    try:
        return ctx.ship(path, name=job, **ship).version
    finally:
        path.unlink(missing_ok=True)


def _job_of(step: StepSpec) -> str:
    try:
        return name_from_path(Path(step.notebook or step.id))
    except BadInput:
        return step.id


def _outputs(names: set[str] | None) -> list[str] | None:
    return None if names is None else sorted(names)


def _step_info(step: StepSpec, job: str, version: int | None,
               outputs: list[str] | None) -> StepInfo:
    return StepInfo(id=step.id, job=job, version=version, notebook=step.notebook,
                    depends_on=step.depends_on, parameters=step.parameters,
                    retries=step.retries, timeout=step.timeout, backend=step.backend,
                    cache=step.cache, checks=step.checks,
                    on_degraded="stop" if step.on_degraded == "stop" else "continue",
                    spark=step.spark, declared_outputs=outputs)


# ---- ship -----------------------------------------------------------------------------------


def ship(ctx: ShipContext, path: str | Path, message: str | None = None,
         author: str | None = None, actor: Actor | None = None,
         may_change: Callable[[Session, Pipeline], None] | None = None,
         confine: Path | None = None) -> tuple[PipelineVersionInfo, bool]:
    """Validate, ship each step's notebook as a job version, then record the pipeline version.

    Returns the version and whether it is new. ``actor`` (team mode) ships the steps' notebooks
    as that user, so a pipeline cannot ship a new version of a job its author does not own.
    ``may_change(session, pipeline)`` raises when a new version of a pipeline that exists may
    not be recorded (team mode: the user is not an owner); content already shipped is allowed.
    ``confine``: the folder every step's project folder must stay inside (the server root).
    """
    spec = load_pipeline(path)
    check_mail_server(spec.notify, spec.where("notify"), ctx.settings.smtp_host)
    found = check(ctx, spec)
    steps: dict[str, dict[str, Any]] = {}
    for sid in spec.order():
        step, facts = spec.steps[sid], found[sid]
        if facts.notebook_path is not None or step.command is not None:
            how: dict[str, Any] = dict(message=message or f"pipeline {spec.name}",
                                       author=author, actor=actor, confine=confine)
            if step.command is not None:
                shipped = _ship_command(ctx, spec, step, facts.job, **how)
            else:
                assert facts.notebook_path is not None
                shipped = ctx.ship(facts.notebook_path, **how).version
            _check_params(spec, step, [p.name for p in shipped.parameters], shipped.job)
            job, number, digest = shipped.job, shipped.number, shipped.digest
        else:
            v = ctx.version(facts.job, facts.version)
            job, number, digest = v.job, v.number, v.digest
        steps[sid] = {
            "job": job, "version": number, "digest": digest, "notebook": step.notebook,
            "depends_on": step.depends_on, "parameters": step.parameters,
            "retries": step.retries, "timeout": step.timeout, "backend": step.backend,
            "outputs": _outputs(facts.facts.outputs),
            **({} if step.cache else {"cache": False}),  # only when off: digests stay as they were
            **({"checks": step.checks} if step.checks else {}),  # the same: only when set
            **({"on_degraded": "stop"} if step.on_degraded == "stop" else {}),
            **({"spark": step.spark} if step.spark is not None else {}),  # the same
        }
    content = {
        "name": spec.name, "parameters": spec.parameters,
        "steps": {sid: {k: v for k, v in s.items() if k not in ("version", "notebook", "outputs")}
                  for sid, s in steps.items()},
    }
    if spec.schedule:  # only when set: versions shipped before schedules keep their digest
        content["schedule"] = spec.schedule
    if spec.owners:  # the same: only when set
        content["owners"] = spec.owners
    if spec.run_by:
        content["run_by"] = spec.run_by
    if spec.notify:  # the same: only when set
        content["notify"] = spec.notify
    extra = {k: v for k, v in (("schedule_environment", spec.schedule_environment),
                               ("triggers", spec.triggers)) if v is not None}
    content.update(extra)  # the same: only when set (core.triggers, core.environments)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    full = {"name": spec.name, "parameters": spec.parameters, "schedule": spec.schedule,
            "steps": {sid: steps[sid] for sid in spec.steps},
            **({"owners": spec.owners} if spec.owners else {}),
            **({"run_by": spec.run_by} if spec.run_by else {}),
            **({"notify": spec.notify} if spec.notify else {}), **extra}
    return _record(ctx, spec, full, digest, message or "", author if author is not None else "",
                   may_change)


def _record(ctx: ShipContext, spec: PipelineSpec, full: dict[str, Any], digest: str,
            message: str, author: str,
            may_change: Callable[[Session, Pipeline], None] | None = None,
            ) -> tuple[PipelineVersionInfo, bool]:
    source_path = str(spec.path.resolve())
    for _ in range(20):  # concurrent ships of one pipeline: retry on a unique-key race
        try:
            with ctx.store.session() as s:
                pipe = s.scalars(select(Pipeline).where(Pipeline.name == spec.name)).first()
                if pipe is None:
                    pipe = Pipeline(name=spec.name, source_path=source_path,
                                    created_at=utcnow(), updated_at=utcnow(), owner=author)
                    s.add(pipe)
                    s.flush()
                existing = s.scalars(select(PipelineVersion).where(
                    PipelineVersion.pipeline_id == pipe.id, PipelineVersion.digest == digest
                )).first()
                if existing is not None:
                    return version_info(existing, pipe), False
                if may_change is not None and pipe.current_version is not None:
                    may_change(s, pipe)
                number = (s.scalar(select(func.max(PipelineVersion.number)).where(
                    PipelineVersion.pipeline_id == pipe.id)) or 0) + 1
                row = PipelineVersion(
                    pipeline_id=pipe.id, number=number, digest=digest, spec=full,
                    source=spec.source, message=message, author=author,
                    source_path=source_path, created_at=utcnow(),
                    git=git_provenance(spec.path.parent),
                )
                s.add(row)
                s.flush()
                pipe.current_version = number
                pipe.updated_at = utcnow()
                pipe.source_path = source_path
                s.add(Event(job_name=spec.name, kind="pipeline-ship", actor=author,
                            data={"version": number, "digest": digest}))
                s.flush()
                return version_info(row, pipe), True
        except IntegrityError:
            continue
    raise Conflict(f"pipeline {spec.name!r}: too many concurrent ships, try again")


# ---- read -----------------------------------------------------------------------------------


def pipeline_row(s: Session, name: str) -> Pipeline:
    pipe = s.scalars(select(Pipeline).where(Pipeline.name == name)).first()
    if pipe is None:
        raise NotFound(f"no pipeline named {name!r}")
    return pipe


def version_row(s: Session, name: str, number: int | None) -> PipelineVersion:
    pipe = pipeline_row(s, name)
    number = pipe.current_version if number is None else number
    row = s.scalars(select(PipelineVersion).where(
        PipelineVersion.pipeline_id == pipe.id, PipelineVersion.number == number)).first()
    if row is None:
        latest = s.scalar(select(func.max(PipelineVersion.number)).where(
            PipelineVersion.pipeline_id == pipe.id))
        raise NotFound(f"pipeline {name!r} has no version {number} (versions 1 to {latest})")
    return row


def version_info(v: PipelineVersion, pipe: Pipeline) -> PipelineVersionInfo:
    steps = [
        StepInfo(id=sid, job=st["job"], version=st["version"], notebook=st.get("notebook"),
                 depends_on=st.get("depends_on") or [], parameters=st.get("parameters") or {},
                 retries=st.get("retries"), timeout=st.get("timeout"), backend=st.get("backend"),
                 cache=st.get("cache", True), checks=st.get("checks"),
                 on_degraded="stop" if st.get("on_degraded") == "stop" else "continue",
                 spark=st.get("spark"), declared_outputs=st.get("outputs"))
        for sid, st in (v.spec.get("steps") or {}).items()
    ]
    return PipelineVersionInfo(
        pipeline=pipe.name, number=v.number, digest=v.digest, message=v.message,
        author=v.author, created_at=v.created_at, parameters=v.spec.get("parameters") or {},
        steps=steps, source_path=v.source_path, is_current=pipe.current_version == v.number,
        environments=_environments_of(v, pipe), git=git_info(v.git),
    )


def _environments_of(v: PipelineVersion, pipe: Pipeline) -> list[str]:
    """The environments pointing at ``v`` (production: the current version)."""
    s = object_session(pipe)
    if s is None:
        return ["production"] if pipe.current_version == v.number else []
    return [env for env, n in pointers(s, "pipeline", pipe).items() if n == v.number]


def rollback(ctx: ShipContext, name: str, number: int, actor: str) -> None:
    """Point the pipeline's current version at an earlier one; history stays. A version whose
    stored schedule never fires is refused (``BadInput``) before anything changes."""
    with ctx.store.session() as s:
        v = version_row(s, name, number)
        check_schedule((v.spec or {}).get("schedule"),
                       f"pipeline {name} v{v.number}: schedule")
        pipe = v.pipeline
        previous = pipe.current_version
        pipe.current_version = v.number
        pipe.updated_at = utcnow()
        s.add(Event(job_name=name, kind="pipeline-rollback", actor=actor,
                    data={"from": previous, "to": v.number}))
