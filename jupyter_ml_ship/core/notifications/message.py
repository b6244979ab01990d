"""What a notification says: subject, text, Slack-style fields, the HTML report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ...models import RunInfo
from ...pipelines.models import PipelineRunInfo

LOG_LINES = 20
_TITLES = {
    "failed": "failed", "timed_out": "timed out", "succeeded": "succeeded",
    "started": "started", "cancelled": "was cancelled", "degraded": "is degraded",
    "drift": "saw its data drift", "promoted": "was promoted", "rejected": "was rejected",
    "rolled_back": "was rolled back",
}


@dataclass
class Message:
    subject: str
    text: str
    fields: list[tuple[str, str]]
    link: str | None
    #: a job's run, or a pipeline run (``notifications.pipeline``)
    info: RunInfo | PipelineRunInfo
    event: str
    log_tail: str = ""
    report: Path | None = field(default=None)
    #: the structured ``ml_ship`` part of the webhook body (None: made from ``info``, a run)
    payload: dict[str, Any] | None = None
    #: why a version was promoted, rejected or rolled back
    reason: str = ""


def run_link(lab_url: str, run_id: str) -> str | None:
    """The lab URL that opens the run (the lab extension reads ``ml-ship-run``)."""
    if not lab_url:
        return None
    sep = "&" if "?" in lab_url else "?"
    return f"{lab_url}{sep}ml-ship-run={quote(run_id)}"


def describe(info: RunInfo, event: str, longer_than: float | None, lab_url: str,
             log_tail: str, reason: str = "") -> Message:
    """``reason``: why a version was promoted, rejected or rolled back (those events)."""
    what = (f"still running after {seconds(longer_than)}" if event == "longer_than"
            else _TITLES.get(event, event))
    subject = f"[ml-ship] {info.job} v{info.version} {what} (run {info.id})"
    fields: list[tuple[str, str]] = [
        ("Job", f"{info.job} v{info.version}"), ("Run", info.id), ("Status", info.status),
        ("Backend", info.backend),
    ]
    if reason:
        fields.insert(0, ("Reason", reason))
    if info.step:
        fields.append(("Pipeline step", f"{info.step} of {info.pipeline_run_id}"))
    if info.started_at:
        fields.append(("Started", info.started_at.isoformat(timespec="seconds")))
    if info.duration is not None:
        fields.append(("Duration", seconds(info.duration)))
    if info.attempts > 1:
        fields.append(("Attempts", f"{info.attempts} of {info.max_attempts}"))
    if info.parameters:
        fields.append(("Parameters", _compact(info.parameters)))
    if info.outputs:
        fields.append(("Outputs", _compact(info.outputs)))
    failing = [c for c in info.checks if not c.passed]
    if failing:  # a degraded run: which checks failed, with their values
        fields.append(("Failing checks", "; ".join(c.message for c in failing)))
    error = ""
    if info.error and event != "succeeded":
        e = info.error
        number = getattr(e, "cell_number", None)  # as numbered in the user's notebook
        where = (f"cell {number}: " if number is not None
                 else f"cell {e.cell_index}: " if e.cell_index is not None else "")
        exc = f"{e.ename}: {e.evalue}" if e.ename and e.evalue else (e.ename or "")
        if e.message and (not exc or exc in e.message):
            error = e.message  # already says where and what
        else:
            error = f"{where}{exc}".strip() + (f" ({e.message})" if e.message else "")
        fields.append(("Error", error))
    link = run_link(lab_url, info.id)
    lines = [subject[len("[ml-ship] "):], ""]
    lines += [f"{k}: {v}" for k, v in fields]
    if link:
        lines += ["", f"Open the run in the lab: {link}"]
    source = getattr(info.error, "cell_source", None) if info.error else None
    if source and event != "succeeded":
        lines += ["", "Failing cell:", ""] + [f"    {line}" for line in source.splitlines()]
    if log_tail.strip():
        lines += ["", "Last lines of the log:", "", log_tail.rstrip()]
    return Message(subject, "\n".join(lines) + "\n", fields, link, info, event, log_tail,
                   reason=reason)


def slack_payload(msg: Message) -> dict[str, Any]:
    """A body Slack's incoming webhooks accept (``text`` + blocks), with the facts as fields
    that other receivers (Teams, Mattermost, a script) can read as JSON too."""
    headline = msg.subject[len("[ml-ship] "):]
    text = f"{headline}" + (f" <{msg.link}|Open run>" if msg.link else "")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v[:1900]}"}
                                       for k, v in msg.fields[:10]]},
    ]
    if msg.link:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open run"},
             "url": msg.link}]})
    info = msg.info
    if msg.payload is not None or not isinstance(info, RunInfo):
        return {"text": text, "blocks": blocks, "ml_ship": msg.payload or {}}
    return {
        "text": text,
        "blocks": blocks,
        "ml_ship": {
            "event": msg.event, "run_id": info.id, "job": info.job, "version": info.version,
            "status": info.status, "duration": info.duration, "parameters": info.parameters,
            "outputs": info.outputs, "link": msg.link,
            "error": info.error.model_dump(exclude_none=True) if info.error else None,
            "health": info.health,
            "checks": [c.model_dump(mode="json") for c in info.checks],
            **({"reason": msg.reason} if msg.reason else {}),
        },
    }


def html_report(path: Path, title: str) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(path), as_version=4)
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nb, resources={"metadata": {"name": title}})
    return str(html)


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    return f"{minutes // 60} h {minutes % 60} min"


def _compact(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, default=str)[:200]}" for k, v in values.items())
