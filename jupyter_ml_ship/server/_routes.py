"""The route table of the REST API and the OpenAPI spec generated from it and the models.

One table feeds the tornado handlers, ``openapi.json`` and its list of models (a route's body
and answer models, ``spec_models()``); a test keeps the checked-in file equal to
``build_spec()`` and every documented operation equal to a handler method.
Regenerate after a change: ``python -m jupyter_ml_ship.server --write-openapi``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .._version import __version__
from ..core.history import RunComparison, RunHistory
from ..core.notebook_info import NotebookInfo
from ..core.pipeline_history import PipelineHistory
from ..models import (
    AuditTrail,
    CreateRunRequest,
    ErrorBody,
    JobHealth,
    JobInfo,
    JobList,
    ProjectPreview,
    PromoteRequest,
    RollbackRequest,
    RunFiles,
    RunInfo,
    RunList,
    RunStatusEvent,
    ScheduleEdit,
    ScheduleInfo,
    ScheduleList,
    ShipRequest,
    ShipResult,
    VersionDiff,
    VersionFiles,
    VersionInfo,
    VersionList,
)
from ..models.triggers import (
    TriggerFired,
    TriggerInfo,
    TriggerList,
    TriggerParameters,
    TriggerToken,
)
from ..pipelines.models import (
    PipelineDescription,
    PipelineInfo,
    PipelineList,
    PipelineRunInfo,
    PipelineRunList,
    PipelineRunStatusEvent,
    PipelineVersionInfo,
    PipelineVersionList,
    ShipPipelineRequest,
    ShipPipelineResult,
    StartPipelineRunRequest,
)
from . import _checks as checks
from . import _files as f
from . import _handlers as h
from . import _history as hist
from . import _notify as notify
from . import _pipelines as p
from . import _promotion as promotion
from . import _triggers as triggers
from . import _upload as upload
from ._base import NotFoundHandler
from ._logs import LogHandler, LogSocketHandler, OutputHandler
from ._models import (
    ArtifactQuery,
    AuditQuery,
    ListPipelineRunsQuery,
    ListRunsQuery,
    LogChunk,
    LogDone,
    LogFollowQuery,
    LogQuery,
    NotebookInfoQuery,
    OutputQuery,
    PipelineInfoQuery,
    PipelineRunsOfQuery,
    ServerHealth,
    VersionDiffQuery,
)

API_BASE = "/ml-ship/api"
SPEC_FILE = Path(__file__).with_name("openapi.json")

#: status → what it means here (every error body is an ErrorBody)
ERRORS = {
    400: "bad input: the message says what and where",
    403: "not authenticated, or not authorized (read-only users may only GET; team mode: only "
         "the job's owners or an ml-ship admin, the message says who may)",
    404: "no such job, pipeline, version, run, file or route",
    409: "the request does not fit the current state",
    413: "body or parameters over MlShip.max_request_bytes",
    429: "too many requests: a webhook trigger over MlShip.trigger_rate_limit runs a minute",
    503: "a backend or the store is unavailable",
    507: "no space left on the disk of the home or the store (the message says where and how "
         "much is free); nothing half-written is left behind",
}


@dataclass(frozen=True)
class Op:
    summary: str
    response: Any = None  # a model, "empty", "text", "notebook", "nbformat", "websocket"
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    stream: str | None = None  # the media type of a raw (streamed) request body


@dataclass(frozen=True)
class Route:
    path: str  # OpenAPI template under API_BASE; {x} is the handler's keyword argument x
    handler: type
    ops: dict[str, Op] = field(default_factory=dict)
    tag: str = ""

    @property
    def pattern(self) -> str:
        # ``{path}`` (a file inside a run) may hold slashes; other parameters are one segment
        return API_BASE + re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m[1]}>.+)" if m[1] == "path"
                                 else f"(?P<{m[1]}>[^/]+)", self.path)


ROUTES: list[Route] = [
    Route("/health", h.HealthHandler, {"get": Op("Version, backends and store (and, in team "
                                                 "mode, who asks)", ServerHealth)},
          "server"),
    Route("/schedules", h.SchedulesHandler, {
        "get": Op("Jobs and pipelines with a schedule: who runs them, their next tick, time "
                  "zone, paused, the last run a tick started", ScheduleList),
    }, "server"),
    Route("/schedules/{kind}/{name}", h.ScheduleHandler, {
        "patch": Op("Edit a job's or pipeline's schedule without a new version: its cron, "
                    "time zone (IANA) or paused (audited; the next tick honours it). 400: a "
                    "cron that never fires or an unknown zone; 409: Airflow holds it",
                    ScheduleInfo, body=ScheduleEdit, errors=(400, 403, 404, 409, 413)),
    }, "server"),
    Route("/triggers", triggers.TriggersHandler, {
        "get": Op("Runs started by events: every job's and pipeline's triggers (webhook, "
                  "files, after; target says which), their environment and when each last "
                  "started a run", TriggerList),
    }, "server"),
    Route("/triggers/{token}", triggers.WebhookHandler, {
        "post": Op("Start a run of the job (or pipeline: a pipeline run) whose webhook "
                   "trigger this secret token is (the "
                   "token is the credential: no Jupyter token, no XSRF). Body: the run's "
                   "parameters, checked like a run's. 404 for an unknown or revoked token "
                   "(nothing started), 429 over the job's rate limit", TriggerFired, 201,
                   TriggerParameters, errors=(400, 404, 413, 429)),
    }, "server"),
    Route("/jobs/{name}/trigger", triggers.JobTriggerHandler, {
        "post": Op("A new secret for the job's webhook trigger (the old one stops working), "
                   "shown this once", TriggerToken, 201, errors=(404,)),
        "delete": Op("Revoke the job's webhook trigger: its URL is a 404 from now on",
                     TriggerInfo, errors=(404,)),
    }, "jobs"),
    Route("/openapi.json", h.OpenApiHandler, {"get": Op("This document", "spec")}, "server"),
    Route("/notebook-info", h.NotebookInfoHandler, {
        "get": Op("Suggested name, parameters and metadata.ml_ship of a notebook",
                  NotebookInfo, query=NotebookInfoQuery, errors=(400, 404, 413)),
    }, "jobs"),
    Route("/ship", h.ShipHandler, {
        "post": Op("Ship a notebook as a new version of its job (or the identical one), "
                   "optionally run it", ShipResult, 201, ShipRequest,
                   errors=(400, 403, 404, 409, 413)),
    }, "jobs"),
    Route("/ship/upload", upload.ShipUploadHandler, {
        "post": Op("Ship a notebook with its project folder sent as one tar stream (`ml-ship "
                   "--url`): regular files and folders only (a link is refused), names kept "
                   "inside, this server's MlShip.max_project_files / max_project_bytes (413); "
                   "nothing is stored when anything is refused", ShipResult, 201,
                   query=upload.ShipUploadQuery, errors=(400, 404, 409, 413),
                   stream="application/octet-stream"),
    }, "jobs"),
    Route("/jobs", h.JobsHandler, {"get": Op("All jobs", JobList)}, "jobs"),
    Route("/jobs/{name}", h.JobHandler, {
        "get": Op("One job", JobInfo, errors=(404,)),
        "delete": Op("Delete a job with no active run, its versions and runs", "empty", 204,
                     errors=(404, 409)),
    }, "jobs"),
    Route("/jobs/{name}/audit", h.AuditHandler, {
        "get": Op("The audit trail of a job or pipeline (newest first): every ship, rollback, "
                  "run, cancel and delete with its user and time", AuditTrail,
                  query=AuditQuery, errors=(400, 404)),
    }, "jobs"),
    Route("/jobs/{name}/health", checks.JobHealthHandler, {
        "get": Op("How a job's checked outputs went over its recent succeeded runs: each "
                  "output's values and verdicts with its rules, the latest health and its "
                  "failing checks, counts over all its runs", JobHealth,
                  query=checks.HealthQuery, errors=(400, 404)),
    }, "runs"),
    Route("/jobs/{name}/history", hist.JobHistoryHandler, {
        "get": Op("Every run of a job (newest first) as table rows: status, version, times, "
                  "parameters and outputs; the columns and versions", RunHistory,
                  query=hist.HistoryQuery, errors=(400, 404)),
    }, "runs"),
    Route("/jobs/{name}/versions", h.VersionsHandler, {
        "get": Op("Versions of a job, newest first", VersionList, errors=(404,)),
    }, "jobs"),
    Route("/jobs/{name}/versions/{number}", h.VersionHandler, {
        "get": Op("One version", VersionInfo, errors=(400, 404)),
    }, "jobs"),
    Route("/jobs/{name}/versions/{number}/promote", promotion.PromoteHandler, {
        "post": Op("Point an environment (``to``, default production: the current version) at "
                   "a version (owners and admins, or MlShip.promote_groups: 403; audited). A "
                   "version of a job with a promotion gate that has not passed it gets its "
                   "validation run and moves when that passes (the answer says validating). A "
                   "rejected version, one still validating or one rolled back by rollback_on "
                   "is refused (409, saying why) unless force", VersionInfo,
                   body=PromoteRequest, errors=(400, 403, 404, 409, 413)),
    }, "jobs"),
    Route("/jobs/{name}/rollback", h.RollbackHandler, {
        "post": Op("Move the current version pointer to another version (not to a candidate "
                   "or rejected one of gated promotion: 409, see .../promote)", JobInfo,
                   body=RollbackRequest, errors=(400, 404, 409, 413)),
    }, "jobs"),
    Route("/runs", h.RunsHandler, {
        "get": Op("Runs, newest first, one page at a time", RunList, query=ListRunsQuery,
                  errors=(400, 404)),
        "post": Op("Start a run of a job's version (default: the current one; environment: "
                   "the one that environment points at; 409 with a version that is not "
                   "that one)", RunInfo, 201, CreateRunRequest, errors=(400, 404, 409, 413)),
    }, "runs"),
    Route("/runs/compare", hist.CompareRunsHandler, {  # before /runs/{run_id}
        "get": Op("Two runs side by side: parameters, outputs, durations and the nbdime diff "
                  "of their output notebooks (sources)", RunComparison, query=hist.CompareQuery,
                  errors=(400, 404)),
    }, "runs"),
    Route("/runs/{run_id}", h.RunHandler, {
        "get": Op("One run", RunInfo, errors=(404,)),
        "delete": Op("Delete an ended run: its record, log, notebooks and files (cancel an "
                     "active one first); the job and its other runs stay", "empty", 204,
                     errors=(404, 409)),
    }, "runs"),
    Route("/runs/{run_id}/cancel", h.CancelHandler, {
        "post": Op("Cancel a run", RunInfo, errors=(404, 409)),
    }, "runs"),
    Route("/runs/{run_id}/logs", LogHandler, {
        "get": Op("Log text from a byte offset; X-Next-Offset tells where to go on", "text",
                  query=LogQuery, errors=(400, 404)),
    }, "runs"),
    Route("/runs/{run_id}/logs/ws", LogSocketHandler, {
        "get": Op("WebSocket: the log from a byte offset (or its last `tail` bytes), live, "
                  "then the final status", "websocket", 101, query=LogFollowQuery,
                  errors=(400, 404)),
    }, "runs"),
    Route("/runs/{run_id}/output", OutputHandler, {
        "get": Op("The executed notebook (JSON), or an HTML report", "notebook",
                  query=OutputQuery, errors=(400, 404)),
    }, "runs"),
]

ROUTES += [
    Route("/project", f.ProjectPreviewHandler, {
        "get": Op("What shipping a notebook would take along: its project folder's files, the "
                  "largest, what is left out and why, and whether it is over the limits",
                  ProjectPreview, query=f.ProjectPreviewQuery, errors=(400, 404, 413)),
    }, "jobs"),
    Route("/notify/test", notify.NotifyTestHandler, {
        "post": Op("Send a test message to notification targets through the service's channels "
                   "(its SMTP server, the webhook URLs in the named environment variables); how "
                   "each went. 400: not an address or a secret name, or mail with no SMTP server",
                   notify.NotifyTestResponse, body=notify.NotifyTestRequest,
                   errors=(400, 413)),
    }, "jobs"),
    Route("/jobs/{name}/versions/{number}/files", f.VersionFilesHandler, {
        "get": Op("The project files of a version", VersionFiles, errors=(400, 404)),
    }, "jobs"),
    Route("/jobs/{name}/versions/{number}/notebook", f.VersionNotebookHandler, {
        "get": Op("The notebook a version stored (nbformat JSON)", "nbformat",
                  errors=(400, 404)),
    }, "jobs"),
    Route("/jobs/{name}/diff", f.VersionDiffHandler, {
        "get": Op("Two versions compared: the notebook's sources (nbdime) and the project "
                  "files added, removed and changed", VersionDiff, query=VersionDiffQuery,
                  errors=(400, 404)),
    }, "jobs"),
    Route("/runs/{run_id}/files", f.RunFilesHandler, {
        "get": Op("The files a run created or changed (its artifacts) and the files it took "
                  "from upstream steps", RunFiles, errors=(404,)),
    }, "runs"),
    Route("/runs/{run_id}/files/{path}", f.RunFileHandler, {
        "get": Op("One artifact of a run, with its content type (confined to the run: '..', "
                  "absolute paths and links are refused)", "file", query=ArtifactQuery,
                  errors=(400, 404)),
    }, "runs"),
]

ROUTES += [
    Route("/pipeline-info", p.PipelineInfoHandler, {
        "get": Op("A pipeline file (or folder of notebooks) checked and laid out as steps; "
                  "nothing shipped", PipelineDescription, query=PipelineInfoQuery,
                  errors=(400, 404)),
    }, "pipelines"),
    Route("/pipelines", p.PipelinesHandler, {
        "get": Op("All pipelines", PipelineList),
        "post": Op("Ship a pipeline: its notebooks as job versions, then a pipeline version "
                   "(or the identical one)", ShipPipelineResult, 201, ShipPipelineRequest,
                   errors=(400, 404, 409, 413)),
    }, "pipelines"),
    Route("/pipelines/{name}", p.PipelineHandler, {
        "get": Op("One pipeline", PipelineInfo, errors=(404,)),
        "delete": Op("Delete a pipeline with no active run (its jobs stay)", "empty", 204,
                     errors=(404, 409)),
    }, "pipelines"),
    Route("/pipelines/{name}/trigger", triggers.PipelineTriggerHandler, {
        "post": Op("A new secret for the pipeline's webhook trigger (its file's triggers:; the "
                   "old one stops working), shown this once", TriggerToken, 201,
                   errors=(404,)),
        "delete": Op("Revoke the pipeline's webhook trigger: its URL is a 404 from now on",
                     TriggerInfo, errors=(404,)),
    }, "pipelines"),
    Route("/pipelines/{name}/versions", p.PipelineVersionsHandler, {
        "get": Op("Versions of a pipeline, newest first", PipelineVersionList, errors=(404,)),
    }, "pipelines"),
    Route("/pipelines/{name}/versions/{number}", p.PipelineVersionHandler, {
        "get": Op("One pipeline version", PipelineVersionInfo, errors=(400, 404)),
    }, "pipelines"),
    Route("/pipelines/{name}/versions/{number}/promote", p.PipelinePromoteHandler, {
        "post": Op("Point an environment (``to``, default production: the current version) of "
                   "a pipeline at a version (owners and admins, or MlShip.promote_groups: 403; "
                   "audited pipeline-promote). 404: no such pipeline, version or environment; "
                   "409: it is already there", PipelineInfo, body=PromoteRequest,
                   errors=(400, 403, 404, 409, 413)),
    }, "pipelines"),
    Route("/pipelines/{name}/rollback", p.PipelineRollbackHandler, {
        "post": Op("Move the pipeline's current version pointer", PipelineInfo,
                   body=RollbackRequest, errors=(400, 404, 413)),
    }, "pipelines"),
    Route("/pipelines/{name}/history", hist.PipelineHistoryHandler, {
        "get": Op("Every run of a pipeline (newest first) as table rows, one column group per "
                  "step (status, duration, parameters, outputs); the columns and versions",
                  PipelineHistory, query=hist.HistoryQuery, errors=(400, 404)),
    }, "pipelines"),
    Route("/pipelines/{name}/runs", p.PipelineRunsOfHandler, {
        "get": Op("Runs of a pipeline, newest first", PipelineRunList,
                  query=PipelineRunsOfQuery, errors=(400, 404)),
        "post": Op("Start a run of a pipeline (default: its current version; environment: "
                   "the one that environment points at; 409 with a version that is not that "
                   "one)",
                   PipelineRunInfo, 201, StartPipelineRunRequest, errors=(400, 404, 409, 413)),
    }, "pipelines"),
    Route("/pipeline-runs", p.PipelineRunsHandler, {
        "get": Op("Pipeline runs, newest first", PipelineRunList, query=ListPipelineRunsQuery,
                  errors=(400, 404)),
    }, "pipelines"),
    Route("/pipeline-runs/{run_id}", p.PipelineRunHandler, {
        "get": Op("One pipeline run with its steps", PipelineRunInfo, errors=(404,)),
    }, "pipelines"),
    Route("/pipeline-runs/{run_id}/cancel", p.PipelineCancelHandler, {
        "post": Op("Cancel a pipeline run: no new steps, running steps cancelled",
                   PipelineRunInfo, errors=(404, 409)),
    }, "pipelines"),
]


def tornado_handlers() -> list[tuple[str, type]]:
    """(pattern, handler) for the extension; unknown API paths end in a JSON 404."""
    return [(r.pattern, r.handler) for r in ROUTES] + [(API_BASE + "(?:/.*)?", NotFoundHandler)]


# ---- OpenAPI --------------------------------------------------------------------------------

#: the models no route row names: the error body, the log WebSocket's messages, the events
EXTRA_MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    (ErrorBody, "serialization"), (LogChunk, "serialization"), (LogDone, "serialization"),
    (RunStatusEvent, "serialization"), (PipelineRunStatusEvent, "serialization"),
]


def spec_models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    """The models of the spec, from the route table: each operation's body (as validated) and
    answer (as serialized), then ``EXTRA_MODELS``; a new route's models come with its row."""
    out: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for route in ROUTES:
        for op in route.ops.values():
            if op.body is not None:
                out.append((op.body, "validation"))
            if isinstance(op.response, type) and issubclass(op.response, BaseModel):
                out.append((op.response, "serialization"))
    return list(dict.fromkeys(out + EXTRA_MODELS))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        options = [o for o in prop.pop("anyOf", []) if o.get("type") != "null"]
        if options:  # "X or null" → X: a query string is either given or not
            prop = {**options[0], **prop}
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _path_parameters(path: str) -> list[dict[str, Any]]:
    out = []
    for name in re.findall(r"\{(\w+)\}", path):
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 1} if name == "number"
            else {"type": "string", "enum": ["job", "pipeline"]} if name == "kind"
            else {"type": "string"})
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def _success(op: Op) -> dict[str, Any]:
    if op.response == "empty":
        return {"description": "done, no content"}
    if op.response == "websocket":
        return {"description": "switching to the WebSocket protocol. Messages: LogChunk… then "
                               "LogDone (see components)"}
    if op.response == "text":
        return {
            "description": "log text (UTF-8) from the offset, never ending inside a character",
            "headers": {"X-Next-Offset": {"description": "the offset to ask from next time",
                                          "schema": {"type": "integer", "minimum": 0}}},
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    if op.response == "notebook":
        return {"description": "the output notebook (nbformat 4), or an HTML report",
                "content": {"application/json": {"schema": {"type": "object"}},
                            "text/html": {"schema": {"type": "string"}}}}
    if op.response == "file":
        return {"description": "the file's bytes, with its content type",
                "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                    "format": "binary"}}}}
    if op.response in ("spec", "nbformat"):
        return {"description": "OpenAPI 3.1 document" if op.response == "spec" else op.summary,
                "content": {"application/json": {"schema": {"type": "object"}}}}
    return {"description": op.summary,
            "content": {"application/json": {"schema": _ref(op.response)}}}


def _operation(route: Route, method: str, op: Op) -> dict[str, Any]:
    params = _path_parameters(route.path) + (_query_parameters(op.query) if op.query else [])
    codes = sorted({*op.errors, 403, 503, 507})
    responses: dict[str, Any] = {str(op.status): _success(op)}
    for code in codes:
        responses[str(code)] = {"description": ERRORS[code], "content": {
            "application/json": {"schema": _ref(ErrorBody)}}}
    op_id = method + "".join(p.capitalize() for p in re.split(r"[^a-zA-Z0-9]+", route.path) if p)
    out: dict[str, Any] = {"operationId": op_id, "summary": op.summary, "tags": [route.tag]}
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _ref(op.body)}}}
    if op.stream is not None:
        out["requestBody"] = {"required": True, "description": "a tar stream (POSIX or PAX)",
                              "content": {op.stream: {"schema": {"type": "string",
                                                                 "format": "binary"}}}}
    out["responses"] = responses
    return out


def build_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document of ROUTES and the pydantic models."""
    _, defs = models_json_schema(spec_models(), ref_template="#/components/schemas/{model}")
    paths: dict[str, Any] = {}
    for route in ROUTES:
        paths[route.path] = {m: _operation(route, m, op) for m, op in route.ops.items()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyter_ml_ship",
            "version": __version__,
            "description": "Ship notebooks as versioned, parameterized jobs. Every route needs "
                           "Jupyter authentication (`Authorization: token …` or the lab's "
                           "cookie + XSRF header). Run status changes are also Jupyter server "
                           "events on /api/events/subscribe: schema "
                           "https://events.jupyter-ml-ship.org/run-status/v1 (data "
                           "RunStatusEvent) and .../pipeline-run-status/v1 (data "
                           "PipelineRunStatusEvent).",
        },
        "servers": [{"url": API_BASE}],
        "security": [{"jupyterToken": []}],
        "paths": paths,
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {"jupyterToken": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`token <the server's token>`"}},
        },
    }


def render_spec() -> str:
    return json.dumps(build_spec(), indent=1, ensure_ascii=False) + "\n"
