"""The models of a ``checks`` block (one output's rules, the ``drift`` rule's value), apart from
their parsing (``spec``) so that the rule registry, which ``spec`` asks for the registered
rules, can import them without importing ``spec``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: the rules every release knows (``drift`` and others come from the registry)
BOUND_RULES = ("min", "max", "max_drop", "max_rise")
BASELINE = re.compile(r"^(previous|reference|last_([1-9][0-9]{0,2}|1000))$")
BASELINE_HELP = "previous, reference or last_N (N from 1 to 1000)"

Where = Callable[..., str]


class DriftSpec(BaseModel):
    """``drift: {max_share, reference}``: the share of drifted columns allowed."""

    model_config = ConfigDict(extra="forbid")
    max_share: float | None = Field(None, ge=0, le=1, description="share of drifted columns "
                                    "above which the check fails (0 to 1)")
    reference: str | None = Field(None, description="the data compared with: previous, "
                                  "reference or last_N")


class OutputChecks(BaseModel):
    """The rules on one output. Extra keys are rules from the registry (``drift``…)."""

    model_config = ConfigDict(extra="allow")
    min: float | None = None
    max: float | None = None
    max_drop: float | None = Field(None, ge=0)
    max_rise: float | None = Field(None, ge=0)
    baseline: str | None = Field(None, description=BASELINE_HELP + " (default previous)")
    required: bool = False

    @property
    def baseline_kind(self) -> str:
        return self.baseline or "previous"

    def rule_names(self) -> list[str]:
        """The rules to evaluate, in a stable order."""
        names = [r for r in BOUND_RULES if getattr(self, r) is not None]
        if self.required:
            names.append("required")
        return names + sorted(self.model_extra or {})

    def rule_value(self, rule: str) -> Any:
        if rule in BOUND_RULES or rule == "required":
            return getattr(self, rule)
        return (self.model_extra or {}).get(rule)


ChecksSpec = dict[str, OutputChecks]
