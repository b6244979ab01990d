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
        changed}`` for the pipeline run ``run_id``."""
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

    def step_files_dir(self, dag_id: str, run_id: str, step: str) -> Path | None:
        """Where a step's task left its files, seen from here (None: nowhere shared)."""
        return None

    def ui_url(self, dag_id: str, run_id: str, task_id: str | None = None) -> str:
        return ""

    def started_runs(self) -> list[DiscoveredRun]:
        """Runs the backend's own scheduler started (most backends: none); core records them."""
        return []
