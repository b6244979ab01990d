"""The backend interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
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

    def discover(self, svc: Any) -> list[str]:
        """Record runs the backend's own scheduler started; their ids (most backends: none)."""
        return []
