"""``checks``: what a run's recorded outputs must look like for the run to be healthy.

Written per output in ``metadata.ml_ship.checks`` of a notebook or ``checks:`` of a pipeline
step::

    checks:
      accuracy: {min: 0.8}
      rows: {min: 1000, max: 1e7}
      auc: {max_drop: 0.05, baseline: last_5}
      loss: {required: true}
      features: {drift: {max_share: 0.3, reference: previous}}

- ``min`` / ``max``: absolute bounds on a number.
- ``max_drop`` / ``max_rise``: the largest allowed fall (rise) against a baseline, as an
  ABSOLUTE difference (auc 0.90 -> 0.84 is a drop of 0.06, not 6.7 %).
- ``baseline``: what ``max_drop`` / ``max_rise`` compare with (default ``previous``):
  ``previous`` (the job's previous healthy succeeded run with that output), ``last_N`` (the
  median of the last N healthy succeeded runs of the run's version with that output, N from 1
  to 1000) or ``reference`` (the version's reference run, set when it is promoted).
- ``required``: the output must be recorded. A bound on an output that was not recorded (and
  is not required) passes with the message "not recorded".
- ``drift``: a rule registered by ``core/checks/drift.py`` (the ``[monitoring]`` extra); until
  then it validates and passes, saying so.

Checked when shipping: an unknown rule or a value of the wrong type is a ``BadInput`` naming
the key (``metadata.ml_ship.checks.accuracy.min: must be a number, got 'high'``).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ValidationError

from ...errors import BadInput
from .models import (  # noqa: F401 - BASELINE_HELP, DriftSpec: imported from here too
    BASELINE,
    BASELINE_HELP,
    BOUND_RULES,
    ChecksSpec,
    DriftSpec,
    OutputChecks,
    Where,
)
from .registry import extra_rules


def parse_checks(value: Any, where: str | Where) -> ChecksSpec:
    """The validated ``checks`` value (``{}`` for none), or ``BadInput`` naming the key.

    ``where``: the location of the ``checks`` key (``metadata.ml_ship.checks``), or a function
    of the keys below it that says where they are (a pipeline file's ``where``)."""
    at: Where = where if callable(where) else (
        lambda *keys: ".".join([where, *keys]))  # type: ignore[misc]
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInput(f"{at()}: must be a mapping of output names to rules, e.g. "
                       "{accuracy: {min: 0.8}}, got " + _shown(value))
    extra = extra_rules()
    out: ChecksSpec = {}
    for name, rules in value.items():
        key = str(name)
        if not key.strip():
            raise BadInput(f"{at()}: an output name is empty")
        if not isinstance(rules, dict) or not rules:
            raise BadInput(f"{at(key)}: must be a mapping of rules (min, max, max_drop, "
                           f"max_rise, baseline, required, drift), got {_shown(rules)}")
        out[key] = _output(key, rules, at, extra)
    return out


def _output(key: str, rules: dict[Any, Any], at: Where,
            extra: dict[str, type[BaseModel] | None]) -> OutputChecks:
    known = set(OutputChecks.model_fields) | set(extra)
    for rule in rules:
        if str(rule) not in known:
            raise BadInput(f"{at(key, str(rule))}: unknown rule (rules: "
                           f"{', '.join(sorted(known))})")
    for rule in BOUND_RULES:
        v = rules.get(rule)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                              or not math.isfinite(v)):
            raise BadInput(f"{at(key, rule)}: must be a number, got {_shown(v)}")
        if v is not None and rule in ("max_drop", "max_rise") and v < 0:
            raise BadInput(f"{at(key, rule)}: must be >= 0 (the largest change allowed, an "
                           f"absolute difference), got {_shown(v)}")
    if "required" in rules and not isinstance(rules["required"], bool):
        raise BadInput(f"{at(key, 'required')}: must be true or false, got "
                       f"{_shown(rules['required'])}")
    baseline = rules.get("baseline")
    if baseline is not None and (not isinstance(baseline, str) or not BASELINE.match(baseline)):
        raise BadInput(f"{at(key, 'baseline')}: must be {BASELINE_HELP}, got {_shown(baseline)}")
    try:
        spec = OutputChecks.model_validate({k: v for k, v in rules.items() if str(k)
                                            in OutputChecks.model_fields})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise BadInput(f"{at(key, loc)}: {first['msg'].lower()}, got "
                       f"{_shown(first.get('input'))}") from None
    if spec.baseline is not None and spec.max_drop is None and spec.max_rise is None:
        raise BadInput(f"{at(key, 'baseline')}: a baseline needs max_drop or max_rise")
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        raise BadInput(f"{at(key, 'min')}: min {spec.min:g} is above max {spec.max:g}")
    extras: dict[str, Any] = {}
    for rule, model in extra.items():
        if rule not in rules:
            continue
        raw = rules[rule]
        if model is not None:
            if not isinstance(raw, dict):
                raise BadInput(f"{at(key, rule)}: must be a mapping, got {_shown(raw)}")
            try:
                raw = model.model_validate(raw).model_dump(exclude_none=True)
            except ValidationError as exc:
                first = exc.errors()[0]
                loc = ".".join(str(x) for x in first["loc"])
                if first["type"] == "extra_forbidden":
                    raise BadInput(f"{at(key, rule, loc)}: unknown key (keys: "
                                   f"{', '.join(model.model_fields)})") from None
                raise BadInput(f"{at(key, rule, loc)}: {first['msg'].lower()}, got "
                               f"{_shown(first.get('input'))}") from None
        extras[rule] = raw
    for rule, raw in extras.items():
        setattr(spec, rule, raw)  # extra="allow": kept in model_extra
    return spec


def merge_checks(base: ChecksSpec, over: ChecksSpec) -> ChecksSpec:
    """A pipeline step's checks over its notebook's: per output, the step's rules win."""
    return {**base, **over}


def checks_of(config: dict[str, Any] | None) -> ChecksSpec:
    """The checks stored in a version's config (validated when shipped); ``{}`` when a newer or
    older release wrote something this one cannot read."""
    try:
        return parse_checks((config or {}).get("checks"), "checks")
    except BadInput:
        return {}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
