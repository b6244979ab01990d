"""What the service mixins (``JobRunsMixin``, ``PipelinesMixin``, ``TickMixin``...) may use of
``ShipService``.

The mixins are only ever used as bases of ``ShipService``. For the type checker,
``_ServiceBase`` is a ``ShipContext`` (``core.context``, the inner contract) plus the service's
own plumbing the mixin methods call, declared here: so their bodies are checked against them,
a mixin passes ``self`` where a ``ShipContext`` is wanted with no cast, and mypy checks that
``ShipService`` implements every member (a missing one makes it abstract). At run time it is
an empty class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from sqlalchemy.orm import Session

    from ..models import AgentInfo, RunInfo, ScheduleInfo
    from ..pipelines.spec import PipelineSpec
    from ..store import Job, Version
    from .access import Actor, Ownership
    from .context import ShipContext, TickHook

    class _ServiceBase(ShipContext):
        _listeners: list[Any]
        tick_hooks: list[TickHook]
        ticker: str | None
        warm_on_first_run: bool

        def prewarm(self, owned: bool = False) -> bool: ...

        def _job(self, s: Session, name: str) -> Job: ...

        def _version(self, s: Session, name: str, number: int | None) -> Version: ...

        def _actor(self, actor: Actor | None) -> Actor | None: ...

        def _ownership(self, s: Session, job: Job) -> Ownership: ...

        def _audit(self, subject: str, kind: str, actor: str, data: dict[str, Any]) -> None: ...

        def _notify(self, info: RunInfo) -> None: ...

        def _hands_off(self) -> bool: ...

        # ---- what the tick calls -----------------------------------------------------------

        def agent(self) -> AgentInfo | None: ...

        def start_queued_runs(self, limit: int = 100) -> list[str]: ...

        def take_back_lost_claims(self, now: datetime | None = None) -> list[str]: ...

        def discover_runs(self, skip_unavailable: bool = True) -> list[str]: ...

        def fire_schedules(self, now: datetime | None = None
                           ) -> list[tuple[ScheduleInfo, str]]: ...

        def active_run_ids(self) -> list[str]: ...

        def active_pipeline_run_ids(self) -> list[str]: ...

        def after_run_ended(self, run_id: str) -> None: ...

        def start_validation(self, job: str, number: int,
                             actor: Actor | None = None) -> Any: ...

        def with_layout_hint(self, project: dict[str, Any] | None,
                             error: dict[str, Any] | None) -> dict[str, Any] | None: ...

        # ---- a pipeline file's triggers (core.triggers) --------------------------------------

        def check_pipeline_triggers(self, spec: PipelineSpec,
                                    steps: set[str] | None = None) -> list[Any]: ...

        def sync_triggers(self, name: str, specs: list[Any], root: Path | None,
                          target: str = "job") -> str | None: ...

else:
    class _ServiceBase:
        pass
