"""Evaluating a run's checks when it ends (``JobRunsMixin._finish``, every backend).

A run that did not succeed is not checked (its status says what went wrong). A succeeded run
with checks gets one ``CheckResult`` per rule; any failed one makes it ``degraded``. A run with
no checks stays ``healthy`` with none.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ...models import CheckResult
from ...store import Job, Version
from ...store.schema import PipelineRun, PipelineVersion
from .registry import RuleContext, RuleOutcome, rule
from .spec import ChecksSpec, checks_of, merge_checks

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...store import Run, Store

log = logging.getLogger("jupyter_ml_ship.checks")


@dataclass
class Evaluated:
    health: str
    checks: list[dict[str, Any]]
    #: the run's outputs with those the rules added
    outputs: dict[str, Any]
    seconds: float = 0.0

    def apply(self, row: Run) -> None:
        row.health = self.health
        row.checks = self.checks
        row.outputs = self.outputs


def checks_for_run(s: Session, version_config: dict[str, Any] | None,
                   pipeline_run_id: str | None, step: str | None) -> ChecksSpec:
    """The checks of a run: its version's, with its pipeline step's over them."""
    spec = checks_of(version_config)
    if pipeline_run_id and step:
        pspec = s.scalar(select(PipelineVersion.spec)
                         .join(PipelineRun, PipelineRun.version_id == PipelineVersion.id)
                         .where(PipelineRun.id == pipeline_run_id)) or {}
        step_checks = ((pspec.get("steps") or {}).get(step) or {}).get("checks")
        if step_checks:
            spec = merge_checks(spec, checks_of({"checks": step_checks}))
    return spec


def evaluate_finished(s: Session, row: Run, status: str, outputs: dict[str, Any],
                      store: Store, home: Path) -> Evaluated | None:
    """The health of a run ending with ``status`` and ``outputs``; None: nothing to record
    (not succeeded, or no checks). Reads only: call it before changing the row."""
    if status != "succeeded":
        return None
    try:
        return _evaluate_finished(s, row, outputs, store, home)
    except Exception as exc:  # never keeps a run from ending; shown on it, not swallowed
        log.exception("ml-ship: checks of run %s could not be evaluated", row.id)
        failed = CheckResult(name="*", rule="checks", value=None, passed=False,
                             message=f"the checks could not be evaluated: "
                                     f"{type(exc).__name__}: {exc}"[:500])
        return Evaluated("degraded", [failed.model_dump(mode="json")], dict(outputs))


def _evaluate_finished(s: Session, row: Run, outputs: dict[str, Any], store: Store,
                       home: Path) -> Evaluated | None:
    started = time.perf_counter()
    found = s.execute(select(Version.config, Version.reference_run_id, Job.name)
                      .join(Job, Job.id == Version.job_id)
                      .where(Version.id == row.version_id)).first()
    if found is None:
        return None
    config, reference, job = found
    spec = checks_for_run(s, config, row.pipeline_run_id, row.step)
    if not spec:
        return None
    ctx = RuleContext(run_id=row.id, job=job, job_id=row.job_id, version=row.version_number,
                      version_id=row.version_id, reference_run_id=reference,
                      outputs=dict(outputs), run_dir=Path(row.run_dir), home=home, store=store,
                      session=s)
    results = evaluate(ctx, spec)
    return Evaluated(
        health="healthy" if all(r.passed for r in results) else "degraded",
        checks=[r.model_dump(mode="json") for r in results], outputs=ctx.outputs,
        seconds=time.perf_counter() - started)


def evaluate(ctx: RuleContext, spec: ChecksSpec) -> list[CheckResult]:
    """Every rule of ``spec`` on ``ctx``'s outputs; outputs a rule adds go into ``ctx``."""
    results: list[CheckResult] = []
    for output, rules in spec.items():
        for name in rules.rule_names():
            fn = rule(name)
            if fn is None:  # validated at ship; a rule of a release this one does not have
                results.append(CheckResult(name=output, rule=name, value=None, passed=True,
                                           message=f"{output}: rule {name} is not known here"))
                continue
            try:
                got = fn(ctx, output, rules)
            except Exception as exc:  # a broken rule is shown, never silently passed
                results.append(CheckResult(
                    name=output, rule=name, value=None, passed=False,
                    message=f"{output}: the {name} check could not run: "
                            f"{type(exc).__name__}: {exc}"[:500]))
                continue
            if isinstance(got, RuleOutcome):
                ctx.outputs.update(got.outputs)
                got = got.checks
            results += got
    return results


def failing(checks: list[CheckResult] | list[dict[str, Any]]) -> list[str]:
    """The messages of the failed checks (for notifications and a pipeline's reason)."""
    out = []
    for c in checks:
        passed = c["passed"] if isinstance(c, dict) else c.passed
        if not passed:
            out.append(c["message"] if isinstance(c, dict) else c.message)
    return out
