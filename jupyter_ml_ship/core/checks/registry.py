"""The rules a ``checks`` block may use: a name -> function registry, papermill-style.

A rule is ``fn(ctx, output, spec) -> list[CheckResult] | RuleOutcome``: ``ctx`` is the
``RuleContext`` of the run being checked (its outputs, its folder and artifacts, its version,
the store and home, baselines), ``output`` the output's name and ``spec`` its ``OutputChecks``
(the rule reads its own value: ``spec.min``, ``spec.rule_value("drift")``). A rule may also
return outputs to record on the run (``RuleOutcome.outputs``), e.g. a drift share.

Built in: ``min``, ``max``, ``max_drop``, ``max_rise``, ``required``, and a ``drift`` that
passes saying it needs the ``[monitoring]`` extra. ``core/checks/drift.py``, when it imports,
replaces it with ``register_rule("drift", fn, spec=DriftSpec)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ...models import CheckResult
from .baselines import baseline_run_ids, baseline_value
from .models import BOUND_RULES, DriftSpec, OutputChecks

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...store import Store

log = logging.getLogger("jupyter_ml_ship.checks")

#: modules of this package that register rules when they import (missing ones are skipped)
PLUGINS = ("drift",)
DRIFT_NEEDS_EXTRA = "drift checks need the [monitoring] extra"


@dataclass
class RuleOutcome:
    checks: list[CheckResult]
    #: outputs to record on the run beside those the notebook recorded
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RuleContext:
    """What a rule may look at: the run that ended and where it lives."""

    run_id: str
    job: str
    job_id: int
    version: int
    version_id: int
    #: the version's reference run (promotion sets it), or None
    reference_run_id: str | None
    #: the outputs recorded by the run (and by rules evaluated before this one)
    outputs: dict[str, Any]
    run_dir: Path
    home: Path
    store: Store
    session: Session
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @property
    def artifacts_dir(self) -> Path:
        """The run's files (``record_data`` writes there too)."""
        from ..projects import ARTIFACT_DIRS

        for name in ARTIFACT_DIRS:
            if (self.run_dir / name).is_dir():
                return self.run_dir / name
        return self.run_dir / ARTIFACT_DIRS[0]

    def run_dir_of(self, run_id: str) -> Path:
        """The folder of another run of this home (a baseline run's data)."""
        return self.home / "runs" / run_id

    def baseline(self, output: str, kind: str) -> tuple[float | None, str]:
        """The baseline value of ``output`` (``previous``, ``last_N``, ``reference``) and a
        few words on where it came from (or why there is none)."""
        key = (output, kind)
        if key not in self._cache:
            self._cache[key] = baseline_value(self, output, kind)
        return self._cache[key]  # type: ignore[no-any-return]

    def baseline_runs(self, kind: str, output: str | None = None) -> list[str]:
        """Ids of the runs a baseline ``kind`` is made of (newest first), ``output``: only
        runs that recorded it."""
        return baseline_run_ids(self, kind, output)


RuleFn = Callable[[RuleContext, str, OutputChecks], "list[CheckResult] | RuleOutcome"]

_rules: dict[str, RuleFn] = {}
#: rules beyond the built-in fields, with the model their value is validated with
_extra: dict[str, type[BaseModel] | None] = {}
_loaded = False
_lock = threading.Lock()


def register_rule(name: str, fn: RuleFn, spec: type[BaseModel] | None = None) -> None:
    """Add (or replace) a rule. ``spec``: the pydantic model a rule that is not one of
    ``OutputChecks``' own fields validates its value with at ship time (a mapping)."""
    _rules[name] = fn
    if name not in OutputChecks.model_fields:
        _extra[name] = spec


def _load_plugins() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for name in PLUGINS:
            try:
                import_module(f"{__package__}.{name}")
            except ImportError as exc:  # not installed in this build, or its extra missing
                log.debug("ml-ship: checks plugin %s not loaded: %s", name, exc)
        _loaded = True


def rule(name: str) -> RuleFn | None:
    _load_plugins()
    return _rules.get(name)


def extra_rules() -> dict[str, type[BaseModel] | None]:
    """Rules other than ``OutputChecks``' own fields, with their value's model."""
    _load_plugins()
    return dict(_extra)


def rule_names() -> list[str]:
    _load_plugins()
    return sorted(_rules)


# ---- built-in rules --------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _g(value: float) -> str:
    return f"{value:.6g}"


def _bound(ctx: RuleContext, output: str, spec: OutputChecks, rule: str) -> list[CheckResult]:
    bound = float(getattr(spec, rule))
    raw = ctx.outputs.get(output)

    def result(passed: bool, message: str, value: float | None = None,
               baseline: float | None = None) -> list[CheckResult]:
        return [CheckResult(name=output, rule=rule, bound=bound, value=value, baseline=baseline,
                            passed=passed, message=message)]

    if output not in ctx.outputs:
        return result(True, f"{output}: not recorded ({rule} {_g(bound)} not checked)")
    if not _number(raw):
        return result(False, f"{output} = {raw!r} is not a number ({rule} {_g(bound)})")
    value = float(raw)  # type: ignore[arg-type]  # a number: checked above
    if rule in ("min", "max"):
        ok = value >= bound if rule == "min" else value <= bound
        sign = (">=" if ok else "<") if rule == "min" else ("<=" if ok else ">")
        return result(ok, f"{output} {_g(value)} {sign} {rule} {_g(bound)}", value)
    reference, origin = ctx.baseline(output, spec.baseline_kind)
    if reference is None:
        return result(True, f"{output} {_g(value)}: no baseline yet ({origin})", value)
    change = value - reference
    moved = -change if rule == "max_drop" else change
    word = "dropped" if rule == "max_drop" else "rose"
    ok = moved <= bound + 1e-12
    return result(ok, f"{output} {_g(value)} against {_g(reference)} ({origin}): {word} "
                      f"{_g(max(moved, 0.0))}, {'within' if ok else 'over'} {rule} {_g(bound)}",
                  value, reference)


def _required(ctx: RuleContext, output: str, spec: OutputChecks) -> list[CheckResult]:
    ok = output in ctx.outputs and ctx.outputs[output] is not None
    value = ctx.outputs.get(output) if _number(ctx.outputs.get(output)) else None
    return [CheckResult(name=output, rule="required", value=value, passed=ok,
                        message=f"{output} recorded" if ok else
                        f"{output}: required but not recorded")]


def _drift_needs_extra(ctx: RuleContext, output: str, spec: OutputChecks) -> list[CheckResult]:
    return [CheckResult(name=output, rule="drift", value=None, passed=True,
                        message=DRIFT_NEEDS_EXTRA)]


def _bound_rule(name: str) -> RuleFn:
    def check(ctx: RuleContext, output: str, spec: OutputChecks) -> list[CheckResult]:
        return _bound(ctx, output, spec, name)

    return check


for _name in BOUND_RULES:
    register_rule(_name, _bound_rule(_name))
register_rule("required", _required)
register_rule("drift", _drift_needs_extra, spec=DriftSpec)
