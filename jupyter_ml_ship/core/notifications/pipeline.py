"""Notifications of pipeline runs: ``notify:`` of a ``*.pipeline.yaml``.

Planned and sent by ``core.notifications`` like a job's (one ``Delivery`` row per target and event,
``subject_kind = "pipeline_run"``, the same claiming, retries and backoff). The events:

- ``failed``: the pipeline run failed (``timed_out`` instead when a step timed out and the rule
  asks for ``timed_out``: one message per rule, never both);
- ``succeeded``; ``started``: the pipeline run started (a step was started);
- ``longer_than``: the pipeline run has been running for more than the rule's seconds.

A cancelled pipeline run is no event (as for a job's run).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...notify_spec import notify_rules
from ...pipelines.models import PipelineRunInfo
from ...store.schema import DeliveryMark, PipelineRun, PipelineStep, PipelineVersion
from ..context import ShipContext
from .message import Message, seconds

KIND = "pipeline_run"
PLAN_BATCH = 200


def plan_pipeline_runs(s: Session, now: datetime, cutoff: datetime,
                       add: Any) -> int:
    """Record the deliveries due for pipeline runs that ended or are running; ``add`` is
    ``plan.add_deliveries`` (subject, wanted, now, kind)."""
    added = 0
    ended = s.execute(
        select(PipelineRun.id, PipelineRun.status, PipelineRun.started_at, PipelineRun.ended_at,
               PipelineVersion.spec)
        .join(PipelineVersion, PipelineRun.version_id == PipelineVersion.id)
        .where(PipelineRun.status.in_(("succeeded", "failed", "cancelled")),
               ~exists().where(DeliveryMark.subject == PipelineRun.id),
               or_(PipelineRun.ended_at.is_(None), PipelineRun.ended_at > cutoff))
        .limit(PLAN_BATCH)
    ).all()
    for run_id, status, started, ended_at, spec in ended:
        rules = notify_rules(spec)
        timed_out = bool(rules) and status == "failed" and _a_step_timed_out(s, run_id)
        wanted = events_for(rules, status, started, ended_at or now, True, timed_out)
        try:
            with s.begin_nested():
                s.add(DeliveryMark(subject=run_id, subject_kind=KIND, created_at=now))
                s.flush()
        except IntegrityError:  # another process planned it
            continue
        added += add(s, run_id, wanted, now, KIND)
    active = s.execute(
        select(PipelineRun.id, PipelineRun.status, PipelineRun.started_at, PipelineVersion.spec)
        .join(PipelineVersion, PipelineRun.version_id == PipelineVersion.id)
        .where(PipelineRun.status == "running")
    ).all()
    for run_id, status, started, spec in active:
        rules = notify_rules(spec)
        if rules:
            added += add(s, run_id, events_for(rules, status, started, now, False, False),
                         now, KIND)
    return added


def _a_step_timed_out(s: Session, run_id: str) -> bool:
    return s.scalar(select(PipelineStep.id).where(
        PipelineStep.pipeline_run_id == run_id, PipelineStep.status == "timed_out").limit(1)
    ) is not None


def events_for(rules: list[Any], status: str, started: datetime | None, until: datetime,
               terminal: bool, timed_out: bool) -> list[tuple[str, str, str]]:
    """(channel, target, event) the pipeline's rules ask for, for a run in this state."""
    out: list[tuple[str, str, str]] = []
    running_for = (until - started).total_seconds() if started else 0.0
    for rule in rules:
        events = []
        if terminal and status == "failed":
            if timed_out and "timed_out" in rule.on:
                events.append("timed_out")
            elif "failed" in rule.on:
                events.append("failed")
        if terminal and status == "succeeded" and "succeeded" in rule.on:
            events.append("succeeded")
        if "started" in rule.on and started is not None:
            events.append("started")
        if ("longer_than" in rule.on and rule.longer_than and started is not None
                and running_for > rule.longer_than and (terminal or status == "running")):
            events.append("longer_than")
        out += rule.deliveries(events)
    return out


def exists_run(s: Session, run_id: str) -> bool:
    return s.get(PipelineRun, run_id) is not None


def message(ctx: ShipContext, run_id: str, event: str) -> Message:
    """What a notification of this pipeline run event says."""
    info = ctx.get_pipeline_run(run_id, reconcile=False)
    with ctx.store.session() as s:
        row = s.get(PipelineRun, run_id)
        spec = dict(row.version.spec or {}) if row is not None and row.version else {}
    longer = next((r.longer_than for r in notify_rules(spec) if r.longer_than), None)
    return describe(info, event, longer, ctx.settings.lab_url)


def describe(info: PipelineRunInfo, event: str, longer_than: float | None,
             lab_url: str) -> Message:
    failed = [st for st in info.steps if st.status in ("failed", "timed_out")]
    what = {
        "failed": "failed", "timed_out": "timed out", "succeeded": "succeeded",
        "started": "started",
        "longer_than": f"still running after {seconds(longer_than)}",
    }.get(event, event)
    if event in ("failed", "timed_out") and failed:
        what += f" at step {', '.join(st.id for st in failed)}"
    subject = f"[ml-ship] pipeline {info.pipeline} v{info.version} {what} (run {info.id})"
    fields: list[tuple[str, str]] = [
        ("Pipeline", f"{info.pipeline} v{info.version}"), ("Pipeline run", info.id),
        ("Status", info.status),
    ]
    if info.started_at:
        fields.append(("Started", info.started_at.isoformat(timespec="seconds")))
    if info.duration is not None:
        fields.append(("Duration", seconds(info.duration)))
    if info.parameters:
        fields.append(("Parameters", ", ".join(f"{k}={v!r}" for k, v in info.parameters.items())))
    fields.append(("Steps", ", ".join(f"{st.id} {st.status}" for st in info.steps)))
    if event != "succeeded":
        for st in failed:
            error = st.error.message if st.error else st.status or ""
            fields.append((f"Step {st.id} (job {st.job} v{st.version}, run {st.run_id})", error))
        if info.error and not failed:
            fields.append(("Error", info.error.message))
    link = pipeline_run_link(lab_url, info.id)
    lines = [subject[len("[ml-ship] "):], ""] + [f"{k}: {v}" for k, v in fields]
    if link:
        lines += ["", f"Open the pipeline run in the lab: {link}"]
    msg = Message(subject, "\n".join(lines) + "\n", fields, link, info, event)
    msg.payload = {
        "event": event, "pipeline_run_id": info.id, "pipeline": info.pipeline,
        "version": info.version, "status": info.status, "duration": info.duration,
        "parameters": info.parameters, "link": link,
        "steps": {st.id: st.status for st in info.steps},
        "failed_steps": [{"step": st.id, "job": st.job, "version": st.version,
                          "run_id": st.run_id, "status": st.status,
                          "error": st.error.model_dump(exclude_none=True) if st.error else None}
                         for st in failed],
    }
    return msg


def pipeline_run_link(lab_url: str, run_id: str) -> str | None:
    """The lab URL that opens the pipeline run (``src/history/plugin.tsx`` reads it)."""
    if not lab_url:
        return None
    sep = "&" if "?" in lab_url else "?"
    return f"{lab_url}{sep}ml-ship-pipeline-run={quote(run_id)}"

