"""Telling the outside world about runs: notifications (mail, webhook, any registered channel)
and MLflow logs.

- ``plan``: which deliveries are due, one ``Delivery`` row per (channel, target, event) of a
  job's run (``pipeline``: of a pipeline run);
- ``deliver``: claim them (a lease, so two processes never send the same one), send each
  through its channel, retry with backoff, record how it went (``RunInfo.notifications``);
- ``message``: what a notification says (subject, text, fields, the HTML report);
- ``registry``: the channels (``channels.register``, the ``jupyter_ml_ship.channels`` entry
  points); ``channels/``: the built-in ones, one module each (email, webhook, mlflow).

The rules (``notify:`` in a notebook's metadata or a pipeline file) are parsed by
``jupyter_ml_ship.notify_spec``, below core, as the notebook and pipeline readers need them.
"""

from __future__ import annotations

from .deliver import backoff, deliver_pending, deliveries_of, wait_idle
from .message import Message
from .plan import add_deliveries, plan
from .registry import Channel, Channels, DeliveryError, Notice, channels

__all__ = ["Channel", "Channels", "DeliveryError", "Message", "Notice", "add_deliveries",
           "backoff", "channels", "deliver_pending", "deliveries_of", "plan", "wait_idle"]
