"""The ``mlflow`` channel: a run that ended is logged to the MLflow tracking server
(``core.mlflow_sync``), planned from ``MlShip.mlflow_tracking_uri`` rather than a notify rule,
so it is claimed once, retried with backoff and shown on the run like a notification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...mlflow_sync import log_run
from ..registry import Channel, DeliveryError, Notice

if TYPE_CHECKING:
    from ...context import ShipContext


class MlflowChannel(Channel):
    name = "mlflow"
    needs_message = False
    in_rules = False

    def send(self, ctx: ShipContext, target: str, notice: Notice) -> dict[str, Any]:
        if notice.run_dir is None:
            raise DeliveryError("MLflow logs job runs only")
        return log_run(ctx.settings, ctx.get_run(notice.subject, reconcile=False),
                       notice.run_dir, notice.digest)

    def shown(self, target: str) -> str:
        return "MLflow"
