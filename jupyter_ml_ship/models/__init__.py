"""Public data models of the service: what the CLI prints with --json and the REST API returns.

These pydantic models are the single source of the wire format; the OpenAPI spec is generated
from them and the TypeScript types in ``src/api/types.ts`` are checked against that spec.

This package is the one home of the wire models, all on one base (``base.ApiModel``): jobs,
versions, runs and the rest here; ``pipelines`` (pipelines, their versions and runs),
``history`` (the runs table and the comparison of two runs) and ``lab`` (what only the lab asks:
the server's health, a notebook before shipping, the log WebSocket's messages).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import Field

from .base import ApiModel

RunStatus = Literal[
    "queued", "building", "running", "succeeded", "failed", "cancelled", "timed_out", "skipped"
]
TERMINAL_STATUSES: frozenset[str] = frozenset(
    {"succeeded", "failed", "cancelled", "timed_out", "skipped"}
)


class ParameterSpec(ApiModel):
    """One parameter of a notebook, as papermill's ``inspect_notebook`` reports it."""

    name: str
    type: str = Field(description="inferred type name: int, float, str, bool, list, dict, None or ''")
    default: str | None = Field(None, description="the default as written in the parameters cell")
    help: str = ""


class RunError(ApiModel):
    """Why a run did not succeed: the failing cell and the exception, or a reason."""

    cell_index: int | None = Field(
        None, description="0-based index of the failing cell in the output notebook")
    ename: str | None = None
    evalue: str | None = None
    message: str
    cell_number: int | None = Field(
        None, description="1-based number of the failing cell as in the user's notebook "
        "(papermill's injected-parameters cell not counted)")
    cell_source: str | None = Field(None, description="the failing cell's source")
    line: int | None = Field(None, description="1-based line of the failing cell that raised")
    traceback: str | None = Field(None, description="the kernel's traceback (ANSI colours kept)")
    hint: str | None = Field(
        None, description="how to fix it, when known (a module or file that exists outside "
        "the shipped folder: ship the project folder)")


class DeliveryInfo(ApiModel):
    """A notification (mail, webhook) or MLflow log of a run, and how it went."""

    channel: Literal["email", "webhook", "mlflow"]
    target: str = Field(description="the addresses, the webhook's secret NAME (never its URL), "
                        "or MLflow")
    event: str = Field(description="failed, timed_out, succeeded, started, longer_than; "
                       "finished for MLflow")
    status: Literal["pending", "sending", "sent", "failed"] = Field(
        description="failed: gave up after MlShip.notify_attempts attempts")
    attempts: int = 0
    error: str | None = Field(None, description="why the last attempt failed (no secrets)")
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = Field(None, description="when a failed one is retried")
    url: str | None = Field(None, description="MLflow: the run in the tracking server's UI")


#: a mail address and a secret's name, as ``notify_spec`` checks them
MailAddress = Annotated[str, Field(pattern=r"^[^@\s<>,;\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")]
SecretName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]


class NotifyTestRequest(ApiModel):
    """``POST /notify/test``: the targets to send a test message to."""

    email: list[MailAddress] = Field([], max_length=50,
                                     description="mail addresses (one mail to all)")
    webhook: list[SecretName] = Field([], max_length=20, description="names of environment "
                                      "variables of the service holding webhook URLs (never "
                                      "the URLs)")
    job: str | None = Field(None, max_length=200, description="the job the message names")


class NotifyTestResult(ApiModel):
    channel: Literal["email", "webhook"]
    target: str = Field(description="the addresses, or the webhook's secret NAME")
    sent: bool
    error: str | None = Field(None, description="why it was not sent (no secret in it)")


class NotifyTestResponse(ApiModel):
    results: list[NotifyTestResult]


class CheckResult(ApiModel):
    """One rule of a run's ``checks`` on one output, as evaluated when the run ended."""

    name: str = Field(description="the output checked")
    rule: str = Field(description="min, max, max_drop, max_rise, required, drift, …")
    value: float | None = Field(None, description="the output's value (None: not recorded, "
                                "or not a number)")
    baseline: float | None = Field(None, description="max_drop / max_rise: what the value was "
                                   "compared with")
    bound: float | None = Field(None, description="the rule's limit (min, max, the largest "
                                "drop or rise)")
    passed: bool
    message: str = Field(description="what was checked and how it came out, in words")


RunHealth = Literal["healthy", "degraded"]


class SparkApp(ApiModel):
    """The Spark application of a PySpark run (metadata.ml_ship.spark)."""

    app_id: str = Field(description="the application's id on its master")
    ui_url: str | None = Field(None, description="the Spark UI of the application (live while "
                               "it runs; its event log is kept with the run's files)")
    master: str = ""
    app_name: str = ""


class RunInfo(ApiModel):
    id: str
    job: str
    version: int
    backend: str
    status: RunStatus
    parameters: dict[str, Any] = {}
    attempts: int = 0
    max_attempts: int = 1
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: float | None = Field(None, description="seconds from start to end (or to now)")
    error: RunError | None = None
    outputs: dict[str, Any] = {}
    pipeline_run_id: str | None = None
    step: str | None = None
    started_by: str = Field("", description="the user who started it (\"schedule\": a tick)")
    has_output: bool = False
    notifications: list[DeliveryInfo] = Field(
        [], description="notifications and MLflow logs of this run (GET /runs/{id} only)")
    health: RunHealth = Field(
        "healthy", description="degraded: it succeeded but a check on its outputs failed (a "
        "run that did not succeed is never degraded: its status says what went wrong)")
    checks: list[CheckResult] = Field(
        [], description="its checks as evaluated when it ended (none: no checks, or it did "
        "not succeed)")
    spark: SparkApp | None = Field(None, description="its Spark application (a PySpark job)")


class HealthPoint(ApiModel):
    """One run's value of a checked output."""

    run_id: str
    version: int
    at: datetime | None = Field(None, description="when the run ended")
    value: float | None = None
    baseline: float | None = None
    passed: bool = Field(description="every check on this output passed in that run")


class OutputHealth(ApiModel):
    """A checked output over a job's recent runs."""

    name: str
    rules: dict[str, Any] = Field({}, description="the current version's checks on it "
                                  "(min, max, max_drop, baseline, …)")
    latest: float | None = Field(None, description="its value in the latest checked run")
    passed: bool | None = Field(None, description="its checks in the latest checked run")
    failed: int = Field(0, description="runs of the series in which one of its checks failed")
    points: list[HealthPoint] = Field([], description="oldest first")


class HealthCounts(ApiModel):
    runs: int = 0
    succeeded: int = 0
    healthy: int = Field(0, description="succeeded with every check passed (or no checks)")
    degraded: int = 0
    failed: int = Field(0, description="failed or timed out")
    active: int = 0


class JobHealth(ApiModel):
    """``GET /jobs/{name}/health``: how a job's checked outputs went over its recent runs."""

    job: str
    current_version: int | None = None
    health: RunHealth | None = Field(None, description="of the latest succeeded run (None: none)")
    latest_run_id: str | None = Field(None, description="that run")
    failing: list[str] = Field([], description="its failed checks, in words")
    counts: HealthCounts = Field(HealthCounts(), description="over all the job's runs")
    outputs: list[OutputHealth] = Field([], description="each checked output (the current "
                                        "version's and those checked in the series)")
    limit: int = Field(description="the series holds the checks of at most this many recent "
                       "succeeded runs")


class ProjectFile(ApiModel):
    """One file of a version's project folder (or of a run's artifacts)."""

    path: str = Field(description="relative to the project folder, with '/' separators")
    size: int
    sha256: str | None = None


class ExcludedFile(ApiModel):
    path: str
    reason: str = Field(description="hidden, __pycache__, .shipignore, metadata.ml_ship.exclude, "
                                    "not in metadata.ml_ship.include, the ml-ship home, a link")


class ProjectSummary(ApiModel):
    """What a version holds beside its notebook."""

    root: str = Field(description="the project folder as shipped from (server-relative in the lab)")
    notebook: str = Field(description="the notebook's path inside the project folder")
    files: int = Field(description="number of files (the notebook itself not counted)")
    bytes: int = Field(description="their total size")


class ProjectPreview(ProjectSummary):
    """What shipping a notebook would take along, before it is shipped."""

    largest: list[ProjectFile] = Field([], description="the largest files, biggest first")
    excluded: list[ExcludedFile] = Field([], description="what was left out and why")
    max_files: int
    max_bytes: int
    error: str | None = Field(None, description="why shipping would be refused, if it would")
    proposed_root: str | None = Field(
        None, description="the folder to ship instead, relative to the notebook's (as "
        "metadata.ml_ship.root takes it, e.g. '..'): the notebook reaches outside the root it has")
    proposed_folder: str | None = Field(
        None, description="that folder relative to the server root ('' the root itself)")
    proposed_reasons: list[str] = Field([], description="why: what the notebook reaches")
    may_ship_anyway: bool = Field(
        False, description="the folder is over max_files / max_bytes and the user asking may "
        "ship it anyway (ship_anyway in POST /ship: an ml-ship admin, or anyone with "
        "MlShip.allow_big_ship), up to anyway_max_files / anyway_max_bytes")
    anyway_max_files: int | None = Field(None, description="the limits of a ship anyway")
    anyway_max_bytes: int | None = None


class VersionFiles(ApiModel):
    job: str
    version: int
    project: ProjectSummary | None = None
    files: list[ProjectFile] = []


class FileChange(ApiModel):
    path: str
    size_a: int | None = None
    size_b: int | None = None


class VersionDiff(ApiModel):
    """Version ``a`` against version ``b`` of one job: notebook sources and project files."""

    job: str
    a: int
    b: int
    notebook_a: dict[str, Any] = Field(description="version a's notebook sources (the base of "
                                       "notebook_diff: no outputs or metadata)")
    notebook_diff: list[dict[str, Any]] = Field(
        description="nbdime's diff of a's notebook to b's, outputs and metadata ignored")
    notebook_text: str = Field(description="the same diff as text (what ml-ship diff prints)")
    added: list[ProjectFile] = []
    removed: list[ProjectFile] = []
    changed: list[FileChange] = []


class FileInput(ApiModel):
    """A file a pipeline step took from an upstream step's artifacts."""

    parameter: str
    file: str = Field(description="the artifact's path in the upstream run")
    path: str = Field(description="where the step read it")
    run_id: str
    step: str | None = None
    job: str


class RunFiles(ApiModel):
    run_id: str
    files: list[ProjectFile] = Field([], description="the files the run created or changed")
    not_kept: list[ProjectFile] = Field([], description="artifacts over max_artifact_bytes")
    inputs: list[FileInput] = Field([], description="files taken from upstream steps")


PromotionState = Literal["candidate", "validating", "promoted", "rejected"]


class AutoRollback(ApiModel):
    """``rollback_on`` rolled this version back (it is never rolled back twice, nor back to)."""

    at: datetime
    to: int = Field(description="the version made current instead")
    runs: list[str] = Field([], description="the degraded or failed runs that caused it")
    reason: str


class GitInfo(ApiModel):
    """Where a version's project folder came from in git (``core.provenance``)."""

    commit: str = Field(description="the commit checked out (HEAD, or the --git-ref)")
    branch: str | None = Field(None, description="the branch (null: a detached HEAD or a tag)")
    dirty: bool = Field(False, description="files of the project folder differed from the "
                        "commit (changed, staged, deleted or new): the version is not exactly "
                        "the commit")
    remote: str | None = Field(None, description="the remote's URL, credentials stripped")
    url: str | None = Field(None, description="the commit's page on a GitHub or GitLab remote")


class VersionInfo(ApiModel):
    job: str
    number: int
    digest: str
    message: str = ""
    author: str = ""
    created_at: datetime
    parameters: list[ParameterSpec] = []
    environment: str = Field("", description="the requirements lock of this version")
    config: dict[str, Any] = Field({}, description="metadata.ml_ship of the shipped notebook")
    source_path: str = ""
    is_current: bool = False
    project: ProjectSummary | None = Field(
        None, description="the project files shipped with the notebook (none: a lone notebook)")
    promotion: PromotionState | None = Field(
        None, description="gated promotion (metadata.ml_ship.promote): candidate, validating "
        "(its validation run is running), promoted or rejected; null: shipped without promote "
        "(current at once)")
    promotion_reason: str | None = Field(
        None, description="why it was promoted or rejected, or what it waits for")
    validation_run_id: str | None = Field(
        None, description="the run that validated it (cells tagged test run only there)")
    reference_run_id: str | None = Field(
        None, description="the run its checks' reference baseline and drift compare with "
        "(the validation run, once promoted)")
    auto_rollback: AutoRollback | None = Field(
        None, description="rollback_on rolled it back: when, to which version and why")
    git: GitInfo | None = Field(
        None, description="git provenance (null: not shipped from a git repository)")
    environments: list[str] = Field(
        [], description="the environments (MlShip.environments) whose pointer is this version; "
        "production is the current version")
    promotion_target: str | None = Field(
        None, description="the environment its running validation run promotes it to")


class Permission(ApiModel):
    allowed: bool = True
    reason: str = Field("", description="why not, when not allowed")


class JobPermissions(ApiModel):
    """What the current user may do with a job or pipeline (team mode; all allowed otherwise)."""

    ship: Permission = Permission()
    run: Permission = Permission()
    rollback: Permission = Permission()
    promote: Permission = Permission()
    cancel: Permission = Permission()
    delete: Permission = Permission()


class AuditEvent(ApiModel):
    """One entry of the audit trail: who did what to a job or pipeline, and when."""

    id: int
    subject: str = Field(description="the job's or pipeline's name")
    kind: str = Field(description="ship, current, rollback, run, cancel, delete; pipeline-…")
    actor: str = Field(description="the user (\"schedule\": a schedule's tick)")
    created_at: datetime
    data: dict[str, Any] = Field({}, description="version numbers, run id, …")


class AuditTrail(ApiModel):
    events: list[AuditEvent]


LastRun = TypeVar("LastRun")


class ShippedInfo(ApiModel, Generic[LastRun]):
    """What a job and a pipeline say alike: a name shipped in versions, who owns it and who may
    run it, its version pointers and its last run (a ``RunInfo`` or a ``PipelineRunInfo``)."""

    name: str
    owner: str = Field("", description="who shipped its first version")
    owners: list[str] = Field([], description="owner groups (a job's metadata.ml_ship.owners, "
                              "a pipeline file's owners)")
    run_by: Literal["owners", "team"] = Field(
        "owners", description="who may run it: its owners, or the whole team (a pipeline file "
        "without run_by: team when every step's job says run_by: team)")
    permissions: JobPermissions = Field(
        JobPermissions(), description="what the current user may do with it")
    current_version: int | None = None
    latest_version: int | None = None
    created_at: datetime
    updated_at: datetime
    source_path: str = ""
    last_run: LastRun | None = None
    environments: dict[str, int] = Field(
        {}, description="the version each environment points at (production: the current "
        "version); environments with no version are left out")


class JobInfo(ShippedInfo[RunInfo]):
    schedule: str | None = Field(None, description="the current version's schedule (cron), "
                                 "as edited (``PATCH /schedules/job/{name}``)")
    schedule_timezone: str = Field("UTC", description="the time zone the schedule is read in")
    schedule_paused: bool = Field(False, description="the schedule is paused (no next_run)")
    next_run: datetime | None = Field(None, description="the schedule's next tick")
    schedule_error: str | None = Field(
        None, description="why the schedule never fires (a row stored before that was checked): "
                          "nothing is started by it")


class ScheduleInfo(ApiModel):
    kind: Literal["job", "pipeline"]
    name: str
    version: int = Field(description="the current version, the one a tick runs")
    schedule: str = Field(description="the cron that runs (5 fields, read in ``timezone``) or "
                          "one of Airflow's presets: the shipped one, or as edited")
    backend: str
    runner: Literal["ml-ship", "airflow"] = Field(
        description="who starts its runs: the Jupyter server, or Airflow (the DAG's schedule)")
    next_run: datetime | None = None
    schedule_error: str | None = Field(
        None, description="why it never fires (no next_run): its ticks start nothing")
    last_fired: datetime | None = Field(None, description="when the server last started a run")
    environment: str = Field("production", description="the environment whose version it "
                             "runs (metadata.ml_ship.schedule_environment)")
    timezone: str = Field("UTC", description="the IANA time zone the cron is read in")
    paused: bool = Field(False, description="paused: its ticks start nothing (no next_run)")
    description: str = Field("", description="the schedule in words")
    shipped_schedule: str | None = Field(
        None, description="the current version's own schedule (edited: ``schedule`` differs)")
    edited: bool = Field(False, description="its cron was changed without a new version")
    edited_by: str | None = None
    edited_at: datetime | None = None
    last_run_id: str | None = Field(None, description="the last run a tick started")
    last_run_status: str | None = None
    last_run_at: datetime | None = None


class ScheduleList(ApiModel):
    schedules: list[ScheduleInfo]


class ScheduleEdit(ApiModel):
    """``PATCH /schedules/{kind}/{name}``: what to change (an absent field stays)."""

    cron: str | None = Field(None, description="cron (5 fields) or one of Airflow's presets")
    timezone: str | None = Field(None, description="an IANA time zone name, e.g. Europe/Paris")
    paused: bool | None = Field(None, description="true: pause; false: resume")


class ShipResult(ApiModel):
    job: JobInfo
    version: VersionInfo
    created: bool = Field(description="false when the content was unchanged and the version reused")
    made_current: bool = Field(False, description="the reused version was not the current one "
                               "(shipped after a roll back) and now is")
    run: RunInfo | None = None
    trigger_token: str | None = Field(
        None, description="the secret of the job's new webhook trigger, shown this once: "
        "POST /ml-ship/api/triggers/{trigger_token} starts a run (only its hash is kept)")


class BackendStatus(ApiModel):
    name: str
    available: bool
    reason: str = ""


class AgentInfo(ApiModel):
    """The ``ml-ship agent`` holding the store's lease: it does the periodic work."""

    holder: str = Field(description="host:pid")
    host: str
    pid: int
    since: datetime
    last_tick: datetime | None = None
    expires_at: datetime = Field(description="taken over by a waiting agent after this")


class HealthInfo(ApiModel):
    version: str
    store: str = Field(description="sqlite or postgresql")
    backends: list[BackendStatus]
    default_backend: str
    agent: AgentInfo | None = Field(None, description="the agent doing the periodic work, if any")
    periodic: Literal["agent", "jupyter server", "none"] = Field(
        "none", description="who fires schedules, resumes pipelines and reconciles runs now")
    warnings: list[str] = Field([], description="e.g. schedules that nothing would fire")
    team_mode: bool = Field(False, description="runs are started by the agent (JupyterHub "
                            "team mode): with no agent, submitting is refused")
    environments: list[str] = Field(
        ["staging", "production"], description="the environments versions are promoted to, "
        "in promotion order (MlShip.environments); production is the current version")


class JobList(ApiModel):
    jobs: list[JobInfo]


class VersionList(ApiModel):
    versions: list[VersionInfo]


class RunList(ApiModel):
    runs: list[RunInfo]
    next_cursor: str | None = None


class ErrorBody(ApiModel):
    error: str = Field(description="a stable machine code: bad_request, not_found, conflict, too_large, unavailable")
    message: str
    steps: list[dict[str, Any]] | None = Field(
        None, description="/pipeline-info only: the steps as the file writes them (StepInfo), "
                          "when it parses but does not validate, to draw next to the message")


# ---- requests -------------------------------------------------------------------------------


class ShipRequest(ApiModel):
    path: str = Field(min_length=1, pattern=r"\S",
                      description="notebook path relative to the server root")
    name: str | None = None
    message: str | None = None
    parameters: dict[str, Any] | None = None
    backend: str | None = None
    run: bool = False
    config: dict[str, Any] | None = Field(
        None, description="overrides merged into metadata.ml_ship before shipping"
    )
    ship_anyway: bool = Field(
        False, description="ship a project folder over the server's limits (an ml-ship admin, "
        "or anyone with MlShip.allow_big_ship; 403 otherwise), up to "
        "MlShip.ship_anyway_max_files / ship_anyway_max_bytes; recorded in the audit trail")


#: version numbers fit a 32-bit integer column on every database
VERSION_MAX = 2**31 - 1


class CreateRunRequest(ApiModel):
    job: str
    version: int | None = Field(None, ge=1, le=VERSION_MAX, description="default: the current one")
    parameters: dict[str, Any] | None = None
    backend: str | None = None
    environment: str | None = Field(
        None, min_length=1, max_length=63, description="run the version this environment "
        "(MlShip.environments) points at instead (not with version); 404 when it is not "
        "configured or has no version of the job")


class RollbackRequest(ApiModel):
    version: int = Field(ge=1, le=VERSION_MAX)


class PromoteRequest(ApiModel):
    force: bool = Field(False, description="promote a rejected (or still validating) version "
                        "anyway")
    to: str = Field("production", min_length=1, max_length=63,
                    description="the environment (MlShip.environments) to point at it")


class RunStatusEvent(ApiModel):
    """Payload of the Jupyter server event emitted on every run status change."""

    run_id: str
    job: str
    version: int
    status: RunStatus
    pipeline_run_id: str | None = None
    step: str | None = None
    attempts: int = 0
