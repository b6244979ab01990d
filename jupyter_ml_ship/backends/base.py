"""The backend interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import MlShip


@dataclass
class RunContext:
    """Everything a backend needs to start one run."""

    run_id: str
    run_dir: Path
    job: str
    version: int
    digest: str
    notebook_file: Path
    environment: str
    environment_source: str
    config: dict[str, Any]
    spec: dict[str, Any]
    #: secret values by name: handed to the process, never written anywhere
    secrets: dict[str, str] = field(default_factory=dict)
    #: append a line to the run's log (for a building phase)
    log: Callable[[str], None] = print
    #: the version's project files (manifest entries: path, size, sha256, executable) and the
    #: blob folder holding them; None for a version shipped before projects
    project_files: list[dict[str, Any]] | None = None
    blobs: Path | None = None
    #: the notebook's folder inside the project (the run's working directory there)
    notebook_dir: str = ""

    @property
    def log_path(self) -> Path:
        return self.run_dir / "log.txt"


@dataclass
class TaskObservation:
    """One step's task as an orchestrator reports it (Airflow's task states: ``scheduled``,
    ``queued``, ``running``, ``success``, ``failed``, ``skipped``, ``upstream_failed``...)."""

    state: str | None = None
    start_date: str | None = None


@dataclass
class PipelineObservation:
    """What an orchestrating backend sees of a pipeline run it runs (one DAG run)."""

    state: str | None
    done: bool
    tasks: dict[str, TaskObservation] = field(default_factory=dict)


@dataclass
class DiscoveredRun:
    """A run an orchestrating backend started by itself (Airflow: a DAG run of our DAG that
    its schedule, its UI or its API started), as the backend sees it."""

    kind: str  # "pipeline" or "job"
    name: str
    version: int
    dag_id: str
    dag_run_id: str
    conf: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    how: str = ""  # e.g. "scheduled", "manual"
    url: str = ""  # where to see it in the backend's UI


@dataclass(frozen=True)
class MirrorFiles:
    """The names of the files core's mirror keeps for an orchestrating backend (asked of the
    backend, so core spells none): in a pipeline run's folder (``HOME/pipeline-runs/ID/``) the
    mirror's state, its lock and the deploy log; in ``HOME`` the folder of the claims of runs
    the backend started itself; in a job run's folder the backend's own state file."""

    state: str
    lock: str
    log: str
    adopted: str
    run_state: str


@dataclass
class ExportedPipeline:
    """A pipeline version written in the orchestrator's own format (``export_pipeline``)."""

    path: Path
    changed: bool
    #: the orchestrator's id of it (Airflow: the DAG id) and what its steps run as
    ident: str
    version: int
    operator: str
    kind: str
    #: (task id, image) of each step
    steps: list[tuple[str, str]] = field(default_factory=list)


class Backend(ABC):
    name: str = ""
    #: capabilities: what core asks of a backend instead of its name
    #: the run's secrets come from the service's environment (False: the backend's own store,
    #: e.g. Airflow Variables, resolved where the run executes)
    secrets_from_service: bool = True
    #: it runs a version's schedule itself (a DAG's schedule): core's schedules leave it alone
    schedules_itself: bool = False
    #: it schedules a pipeline run's steps itself (``advance_pipeline_run`` and
    #: ``cancel_pipeline_run``) instead of core's executor
    orchestrates_pipelines: bool = False
    #: an orchestrating backend: the files core's mirror keeps for it (``MirrorFiles``)
    mirror_files: MirrorFiles | None = None
    #: how users know it (in messages: "Airflow did not run this task")
    label: str = ""

    def __init__(self, settings: MlShip):
        self.settings = settings

    @abstractmethod
    def available(self) -> tuple[bool, str]:
        """Whether runs can start now, and if not, why (shown to users)."""

    @abstractmethod
    def start(self, ctx: RunContext) -> dict[str, Any]:
        """Start the run without waiting for it; return a JSON reference to find it again."""

    @abstractmethod
    def is_alive(self, ref: dict[str, Any], run_dir: Path) -> bool:
        """Whether the run is still going (building or executing)."""

    @abstractmethod
    def cancel(self, ref: dict[str, Any], run_dir: Path) -> None:
        """Stop the run; must not raise when it already ended."""

    def collect(self, ref: dict[str, Any], run_dir: Path) -> None:  # noqa: B027
        """Bring logs and results into ``run_dir`` (for backends that run elsewhere)."""

    # ---- orchestrating backends (``orchestrates_pipelines``): core applies what they see --

    def deploy_pipeline(self, deployment: dict[str, Any], run_id: str,
                        log: Callable[[str], None]) -> dict[str, Any]:
        """Make a pipeline version runnable there; ``{dag_id, dag_run_id, file, path,
        changed, deadline}`` for the pipeline run ``run_id`` (``deadline``, a ``time.time()``:
        when ``try_trigger`` gives up waiting for the orchestrator to load it)."""
        raise NotImplementedError(f"backend {self.name} does not orchestrate pipelines")

    def try_trigger(self, dag_id: str, file_name: str, run_id: str, conf: dict[str, Any],
                    deadline: float) -> dict[str, Any] | None:
        """Start the deployed pipeline run once the orchestrator can (None: not yet)."""
        raise NotImplementedError(f"backend {self.name} does not orchestrate pipelines")

    def observe_pipeline_run(self, dag_id: str, run_id: str) -> PipelineObservation | None:
        """The pipeline run's state and its tasks' (None: it is gone)."""
        raise NotImplementedError(f"backend {self.name} does not orchestrate pipelines")

    def stop_pipeline_run(self, dag_id: str, run_id: str) -> None:
        raise NotImplementedError(f"backend {self.name} does not orchestrate pipelines")

    def bind_task(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """The config overrides of a run of ours that follows a task the orchestrator runs
        (a step of its pipeline run, or a job run it started itself)."""
        raise NotImplementedError(f"backend {self.name} does not orchestrate pipelines")

    def started_ref(self, run_dir: Path) -> dict[str, Any]:
        """The reference ``start`` left in a run's folder (read when the store does not hold
        it yet): ``{dag_id, dag_run_id, ...}``, or nothing."""
        return {}

    def export_pipeline(self, deployment: dict[str, Any], folder: Path | None = None, *,
                        operator: str | None = None, images: bool = False,
                        log: Callable[[str], None] = print) -> ExportedPipeline:
        """Write a pipeline version (``deployment``: what ``deploy_pipeline`` gets) in the
        orchestrator's format into ``folder`` (default: where it reads them from)."""
        raise NotImplementedError(f"backend {self.name} cannot export pipelines")

    def step_files_dir(self, dag_id: str, run_id: str, step: str) -> Path | None:
        """Where a step's task left its files, seen from here (None: nowhere shared)."""
        return None

    def ui_url(self, dag_id: str, run_id: str, task_id: str | None = None) -> str:
        return ""

    def started_runs(self) -> list[DiscoveredRun]:
        """Runs the backend's own scheduler started (most backends: none); core records them."""
        return []
