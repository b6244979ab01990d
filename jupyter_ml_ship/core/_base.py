"""What the service mixins (``JobRunsMixin``, ``PipelinesMixin``) may use of ``ShipService``.

The mixins are only ever used as bases of ``ShipService``; ``_ServiceBase`` declares, for the
type checker only, the attributes ``ShipService.__init__`` sets and the methods it defines that
the mixin methods call, so that their bodies are checked against them. At run time it is an
empty class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

    from ..backends import Backend
    from ..config import MlShip
    from ..store import Job, Store, Version
    from .access import Actor, Ownership


class _ServiceBase:
    if TYPE_CHECKING:
        settings: MlShip
        home: Path
        store: Store
        _listeners: list[Any]
        warm_on_first_run: bool

        def backend(self, name: str | None) -> Backend: ...

        def prewarm(self, owned: bool = False) -> bool: ...

        def _job(self, s: Session, name: str) -> Job: ...

        def _version(self, s: Session, name: str, number: int | None) -> Version: ...

        def _actor(self, actor: Actor | None) -> Actor | None: ...

        def _ownership(self, s: Session, job: Job) -> Ownership: ...

        def _audit(self, subject: str, kind: str, actor: str, data: dict[str, Any]) -> None: ...
