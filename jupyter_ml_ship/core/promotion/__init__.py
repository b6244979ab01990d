"""Gated promotion ("ship = tested") and automatic roll back: the ``promote`` and
``rollback_on`` specs (``spec``), the verdict on a candidate (``decide``), the roll back plan
(``rollback``) and the service's side of both (``_mixin.PromotionMixin``)."""

from __future__ import annotations

from ..rows import version_event_reason
from ._mixin import PromotionMixin
from .spec import NotWorse, PromoteSpec, parse_promote, parse_rollback_on, promote_of

__all__ = ["NotWorse", "PromoteSpec", "PromotionMixin", "parse_promote", "parse_rollback_on",
           "promote_of", "version_event_reason"]
