"""``promote`` and ``rollback_on``: gated promotion and automatic roll back of a job's versions.

Written in ``metadata.ml_ship`` of a notebook::

    promote:
      validate: {parameters: {sample: 0.1}}   # the validation run's parameters (over the defaults)
      not_worse:
        accuracy: 0.01                # higher is better: may fall by at most 0.01
        loss: {max_rise: 0.02}        # lower is better: may rise by at most 0.02
        auc: {max_drop: 0}            # the long form of a plain number
    rollback_on: {degraded: 2}

- ``promote`` (a mapping, or ``true`` for a validation run with no comparison): a new version
  ships as a **candidate**; it becomes current only when its validation run (cells tagged
  ``test`` run only there) succeeds, its ``checks`` hold and each ``not_worse`` output is not
  worse than the median of the current version's last 5 healthy runs beyond its tolerance
  (an ABSOLUTE difference, as ``max_drop`` / ``max_rise`` of ``checks``).
- ``rollback_on.degraded: N``: after N runs in a row of the current version that ended degraded
  or failed, the job goes back to the last version whose runs were healthy.

Checked when shipping: anything else is a ``BadInput`` naming the key
(``metadata.ml_ship.promote.not_worse.accuracy: must be a number …``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ...errors import BadInput

PROMOTE_KEYS = ("validate", "not_worse", "to")
VALIDATE_KEYS = ("parameters",)
ROLLBACK_KEYS = ("degraded",)
MAX_DEGRADED = 100
#: healthy runs of the current version a ``not_worse`` output is compared with (their median)
RECENT = 5


@dataclass(frozen=True)
class NotWorse:
    """One output of ``not_worse``: how far it may move the wrong way."""

    output: str
    tolerance: float
    #: "drop": higher is better (the default); "rise": lower is better
    direction: Literal["drop", "rise"] = "drop"


@dataclass
class PromoteSpec:
    parameters: dict[str, Any] = field(default_factory=dict)
    not_worse: list[NotWorse] = field(default_factory=list)
    #: the environment a candidate goes to once its validation run passes (None: production)
    to: str | None = None


def parse_promote(value: Any, where: str) -> PromoteSpec | None:
    """The validated ``promote`` block (None: none), or ``BadInput`` naming the key."""
    if value is None or value is False:
        return None
    if value is True:
        return PromoteSpec()
    if not isinstance(value, dict):
        raise BadInput(f"{where}: must be a mapping with validate and/or not_worse (or true), "
                       f"got {_shown(value)}")
    _known(value, PROMOTE_KEYS, where)
    spec = PromoteSpec()
    validate = value.get("validate")
    if validate is not None:
        if not isinstance(validate, dict):
            raise BadInput(f"{where}.validate: must be a mapping, e.g. {{parameters: "
                           f"{{sample: 0.1}}}}, got {_shown(validate)}")
        _known(validate, VALIDATE_KEYS, f"{where}.validate")
        params = validate.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise BadInput(f"{where}.validate.parameters: must be a mapping of parameter "
                           f"names to values, got {_shown(params)}")
        spec.parameters = {str(k): v for k, v in (params or {}).items()}
    to = value.get("to")
    if to is not None:
        if not isinstance(to, str) or not to:
            raise BadInput(f"{where}.to: must be an environment name (e.g. staging), got "
                           f"{_shown(to)}")
        spec.to = to
    raw = value.get("not_worse")
    if raw is not None:
        if not isinstance(raw, dict):
            raise BadInput(f"{where}.not_worse: must be a mapping of output names to "
                           f"tolerances, e.g. {{accuracy: 0.01}}, got {_shown(raw)}")
        for name, tol in raw.items():
            spec.not_worse.append(_not_worse(str(name), tol, f"{where}.not_worse.{name}"))
    return spec


def _not_worse(name: str, tol: Any, where: str) -> NotWorse:
    help_ = ("must be a number >= 0 (the largest allowed drop: higher is better) or "
             "{max_drop: N} / {max_rise: N} (lower is better)")
    if not name.strip():
        raise BadInput(f"{where}: an output name is empty")
    if isinstance(tol, dict):
        if len(tol) != 1 or next(iter(tol)) not in ("max_drop", "max_rise"):
            raise BadInput(f"{where}: {help_}, got {_shown(tol)}")
        key, number = next(iter(tol.items()))
        direction: Literal["drop", "rise"] = "drop" if key == "max_drop" else "rise"
        where = f"{where}.{key}"
    else:
        number, direction = tol, "drop"
    if isinstance(number, bool) or not isinstance(number, (int, float)) \
            or not math.isfinite(number) or number < 0:
        raise BadInput(f"{where}: {help_}, got {_shown(number)}")
    return NotWorse(name, float(number), direction)


def parse_rollback_on(value: Any, where: str) -> int | None:
    """N of ``rollback_on: {degraded: N}`` (None: none), or ``BadInput`` naming the key."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadInput(f"{where}: must be a mapping, e.g. {{degraded: 2}}, got {_shown(value)}")
    _known(value, ROLLBACK_KEYS, where)
    n = value.get("degraded")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_DEGRADED:
        raise BadInput(f"{where}.degraded: must be a whole number of runs from 1 to "
                       f"{MAX_DEGRADED}, got {_shown(n)}")
    return n


def promote_of(config: dict[str, Any] | None) -> PromoteSpec | None:
    """The ``promote`` of a stored version's config (validated when shipped)."""
    try:
        return parse_promote((config or {}).get("promote"), "promote")
    except BadInput:
        return None


def rollback_on_of(config: dict[str, Any] | None) -> int | None:
    try:
        return parse_rollback_on((config or {}).get("rollback_on"), "rollback_on")
    except BadInput:
        return None


def _known(value: dict[Any, Any], keys: tuple[str, ...], where: str) -> None:
    for key in value:
        if str(key) not in keys:
            raise BadInput(f"{where}.{key}: unknown key (keys: {', '.join(keys)})")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
