"""What a channel is: the ``Channel`` base class, the ``Notice`` it sends, the
``DeliveryError`` it raises (``registry`` holds the channels; ``channels/`` the built-in ones)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .message import Message

if TYPE_CHECKING:
    from ..context import ShipContext


class DeliveryError(Exception):
    """A delivery that did not go through; the message names no secret (shown on the run,
    retried with backoff)."""


@dataclass
class Notice:
    """What a channel is asked to send: one event of one run (or pipeline run)."""

    subject: str
    #: "run" or "pipeline_run"
    kind: str
    event: str
    #: the message (subject, text, fields, link, report); made once for any channel needing it
    message: Message | None = None
    #: a job run's folder and version digest (None for a pipeline run)
    run_dir: Path | None = None
    digest: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Channel:
    """One way to tell the world. Subclasses set ``name`` and implement ``send``."""

    #: the key in a notify rule, and ``Delivery.channel``
    name: ClassVar[str] = ""
    #: whether ``send`` needs ``notice.message`` (MLflow logs the run itself)
    needs_message: ClassVar[bool] = True
    #: whether a notify rule may name it (MLflow is planned from the settings instead)
    in_rules: ClassVar[bool] = True

    def send(self, ctx: ShipContext, target: str, notice: Notice) -> dict[str, Any]:
        """Send ``notice`` to ``target``; the detail kept on the delivery. Raise
        ``DeliveryError`` (no secret in it) when it did not go through."""
        raise NotImplementedError

    def shown(self, target: str) -> str:
        """The target as the run's list of notifications shows it (never a secret)."""
        return target
