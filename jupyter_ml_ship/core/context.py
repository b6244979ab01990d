"""The inner contract of core: what the engine, the schedules, the tick and the notifications
may use of the service (``ShipContext``), and what they ask it to start (``RunRequest``).

``ShipService`` implements ``ShipContext`` (mypy checks it: the service's mixins are typed
against it). The helpers take a ``ShipContext`` instead of the whole service, so they never
import ``core.service`` (an import-linter contract in pyproject.toml keeps it so) and a reader
follows a call down, never back up through an untyped object::

    faces (cli, server) ── ShipService ──▶ engine / schedules / notifications / history
                                 ▲                          │
                                 └──── ShipContext ◀────────┘  (only these members)

A member is here because a helper calls it; a helper that needs more adds it here first, with
its real signature (the service's method), so the contract stays the list of what is used.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..backends import Backend
    from ..config import MlShip
    from ..models import RunFiles, RunInfo, ShipResult, VersionInfo
    from ..pipelines.models import PipelineRunInfo
    from ..store import Store
    from ..store.schema import Pipeline
    from .access import Actor, Ownership


@dataclass
class RunRequest:
    """What ``ShipContext.start_runs`` starts: the arguments of ``ShipService.run``."""

    job: str
    version: int | None = None
    parameters: dict[str, Any] | None = None
    backend: str | None = None
    pipeline_run_id: str | None = None
    step: str | None = None
    overrides: dict[str, Any] | None = None
    #: files taken from upstream steps (FileInput fields), shown on the run
    inputs: list[dict[str, Any]] | None = None
    #: the user it is started for (recorded on the run)
    started_by: str = ""
    #: team mode: record it for the agent to start (``start_queued_runs``) instead of starting
    for_agent: bool = False
    #: the run that validates a candidate version (``core.promotion``): its ``test`` cells run
    validation: bool = False


class ShipContext(Protocol):
    """What core's helpers use of ``ShipService``: its configuration and store, its backends,
    and the run and version operations they start or read (each the service's own method)."""

    settings: MlShip
    #: ``settings.home_path``: runs/, jobs/, pipeline-runs/, schedules/ live under it
    home: Path
    store: Store

    def backend(self, name: str | None) -> Backend:
        """An enabled backend by name (None: the default one); ``BadInput`` if not enabled."""
        ...

    # ---- who acts, and the audit trail ---------------------------------------------------

    def acting(self, actor: Actor | None) -> Actor | None:
        """Who acts: ``actor``, else the service's own (None: single-user mode, nothing is
        checked; ``core.access``)."""
        ...

    def audit(self, subject: str, kind: str, actor: str, data: dict[str, Any]) -> None:
        """Record an event of the audit trail (``ml-ship audit``)."""
        ...

    def pipeline_ownership(self, s: Session, pipe: Pipeline) -> Ownership:
        """A pipeline's owners and who may run it (what ``core.access.check`` is given)."""
        ...

    # ---- job runs -----------------------------------------------------------------------

    def start_runs(self, requests: list[RunRequest]) -> list[RunInfo | Exception]:
        """Record several runs in one transaction, then start each; per request its run or
        why it could not start."""
        ...

    def run(self, job: str, version: int | None = None,
            parameters: dict[str, Any] | None = None, backend: str | None = None, *,
            pipeline_run_id: str | None = None, step: str | None = None,
            overrides: dict[str, Any] | None = None, actor: Actor | None = None,
            started_by: str | None = None) -> RunInfo:
        """Start one run (checked and audited as a user's run)."""
        ...

    def get_run(self, run_id: str, reconcile: bool = True) -> RunInfo: ...

    def reconcile(self, run_id: str) -> None:
        """Move a run's status from what its run directory and backend say."""
        ...

    def cancel(self, run_id: str, actor: Actor | None = None) -> RunInfo: ...

    def finish_run(self, run_id: str, status: str, error: dict[str, Any] | None,
                   result: dict[str, Any] | None = None) -> None:
        """Record that a run ended (checks, promotion, listeners), unless it already had."""
        ...

    def after_runs_deferred(self) -> AbstractContextManager[None]:
        """Inside: a run's end is recorded at once and its follow-up (promotion, listeners)
        waits for the block's end (a pipeline pass starts the next steps first)."""
        ...

    def output_path(self, run_id: str) -> Path: ...

    def run_files(self, run_id: str) -> RunFiles: ...

    def run_artifacts_dir(self, run_id: str) -> Path: ...

    # ---- versions -----------------------------------------------------------------------

    def ship(self, path: str | Path, *, name: str | None = None, message: str | None = None,
             author: str | None = None, config: dict[str, Any] | None = None,
             run: bool = False, parameters: dict[str, Any] | None = None,
             backend: str | None = None, source: str | None = None,
             confine: Path | None = None, actor: Actor | None = None) -> ShipResult: ...

    def version(self, name: str, number: int | None = None) -> VersionInfo: ...

    def version_notebook(self, name: str, number: int | None = None) -> Path: ...

    # ---- pipeline runs ------------------------------------------------------------------

    def run_pipeline(self, name: str, version: int | None = None,
                     parameters: dict[str, Any] | None = None, backend: str | None = None, *,
                     use_cache: bool = True, parallelism: int | None = None,
                     detach: bool = True, actor: Actor | None = None,
                     started_by: str | None = None) -> PipelineRunInfo: ...

    def get_pipeline_run(self, run_id: str, reconcile: bool = True) -> PipelineRunInfo: ...

    def resume_pipeline_run(self, run_id: str) -> PipelineRunInfo:
        """Advance an active pipeline run and start a scheduler for it if none is alive."""
        ...


#: periodic work run at the end of every tick that writes (notifications, MLflow logs)
TickHook = Callable[[ShipContext], None]

__all__ = ["RunRequest", "ShipContext", "TickHook"]
