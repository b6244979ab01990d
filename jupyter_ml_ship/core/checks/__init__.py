"""Checks on a run's outputs: the ``checks`` spec, baselines, the evaluator and its rule
registry, the health of a job.

``register_rule(name, fn)`` adds a rule (``drift`` is registered by ``drift.py`` in this
folder when the ``[monitoring]`` extra is installed); ``evaluate_finished`` runs when a run
ends (``core._job_runs``); ``parse_checks`` validates a ``checks`` block at ship time.
"""

from __future__ import annotations

from .evaluate import Evaluated, checks_for_run, evaluate, evaluate_finished, failing
from .registry import (
    DRIFT_NEEDS_EXTRA,
    RuleContext,
    RuleFn,
    RuleOutcome,
    register_rule,
    rule,
    rule_names,
)
from .spec import ChecksSpec, DriftSpec, OutputChecks, checks_of, merge_checks, parse_checks

__all__ = [
    "DRIFT_NEEDS_EXTRA", "ChecksSpec", "DriftSpec", "Evaluated", "OutputChecks", "RuleContext",
    "RuleFn", "RuleOutcome", "checks_for_run", "checks_of", "evaluate", "evaluate_finished",
    "failing", "merge_checks", "parse_checks", "register_rule", "rule", "rule_names",
]
