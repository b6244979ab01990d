"""The ``drift`` check: a data set recorded with ``record_data`` against a reference run's.

``features: {drift: {max_share: 0.3, reference: previous}}`` compares the sample the run kept of
``features`` with the one a reference run kept, using Evidently's ``DataDriftPreset`` (its test
per column is chosen by column type and size). The check passes when the share of drifted
columns is at most ``max_share`` (default 0.5, Evidently's own). ``reference``:

- ``previous`` (default): the job's last healthy succeeded run that recorded the data set;
- ``reference_run`` (or ``reference``): the version's reference run (promotion sets it);
- a run id.

With no reference yet (a job's first run) the check passes and says so. Each column's drift
score is recorded as output ``<data>.drift.<column>`` and the share as ``<data>.drift_share``;
Evidently's HTML report is kept with the run as ``drift-<data>.html``.

Columns are compared by name. A column that vanished, or that is all missing on one side only,
or whose type changed between numbers and text, counts as drifted; a new column, a column all
missing on both sides, and columns Evidently does not compare (dates, lists) are named in the
message and not counted. Evidently (the ``[monitoring]`` extra) is imported only when a drift
check runs; without it the check passes, saying what to install.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import field_validator
from sqlalchemy import Text, cast, select

from ...models import CheckResult
from ...store import Run
from ...store.files import atomic_write_json, read_json
from .registry import RuleContext, RuleOutcome, register_rule
from .spec import DriftSpec, OutputChecks

if TYPE_CHECKING:
    import pandas as pd

#: a data set needs this many rows on each side to be compared
MIN_ROWS = 2
DEFAULT_MAX_SHARE = 0.5
INSTALL_HINT = "install jupyter_ml_ship[monitoring] (Evidently) to check drift"
REFERENCE_KINDS = ("previous", "reference_run", "reference")
_RUN_ID = re.compile(r"^[0-9a-f]{8,32}$")
_OUTPUT_PART = re.compile(r"[^A-Za-z0-9_.-]+")


class DataDriftSpec(DriftSpec):
    """``drift: {max_share, reference}``, its reference checked when shipping."""

    @field_validator("reference")
    @classmethod
    def _known_reference(cls, value: str | None) -> str | None:
        if value is not None and value not in REFERENCE_KINDS and not _RUN_ID.match(value):
            raise ValueError("must be previous, reference_run or a run id")
        return value


# ---- comparing two data sets ----------------------------------------------------------------


@dataclass
class ColumnDrift:
    column: str
    drifted: bool
    #: Evidently's score (a p-value or a distance, see ``method``); None: not measured
    score: float | None = None
    method: str | None = None
    threshold: float | None = None
    #: why the column was not measured (vanished, all missing, type changed)
    note: str = ""


@dataclass
class DriftOutcome:
    """Per-column drift of ``current`` against ``reference`` and what was left out."""

    columns: list[ColumnDrift] = field(default_factory=list)
    #: columns named but not counted: new ones, all missing on both sides, types not compared
    skipped: dict[str, str] = field(default_factory=dict)
    #: set when nothing could be compared (too few rows, nothing in common)
    problem: str = ""
    report: Path | None = None

    @property
    def drifted(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.drifted]

    @property
    def share(self) -> float:
        return len(self.drifted) / len(self.columns) if self.columns else 0.0


def _all_missing(col: pd.Series) -> bool:
    return bool(col.isna().all())


def _kind(col: pd.Series) -> str:
    from pandas.api import types as t

    if t.is_bool_dtype(col.dtype):
        return "category"
    if t.is_numeric_dtype(col.dtype):
        return "number"
    if t.is_datetime64_any_dtype(col.dtype):
        return "date"
    return "category"


def _triage(reference: pd.DataFrame, current: pd.DataFrame,
            out: DriftOutcome) -> list[str]:
    """The columns to hand to Evidently; the others are noted in ``out``."""
    cur = set(current.columns)
    compared: list[str] = []
    for name in reference.columns:
        if name not in cur:
            out.columns.append(ColumnDrift(name, True, note="vanished"))
            continue
        ref_empty, cur_empty = _all_missing(reference[name]), _all_missing(current[name])
        if ref_empty and cur_empty:
            out.skipped[name] = "all missing in both"
        elif cur_empty:
            out.columns.append(ColumnDrift(name, True, note="all missing now"))
        elif ref_empty:
            out.columns.append(ColumnDrift(name, True, note="all missing in the reference"))
        elif _kind(reference[name]) != _kind(current[name]):
            out.columns.append(ColumnDrift(
                name, True, note=f"type changed from {reference[name].dtype} to "
                                 f"{current[name].dtype}"))
        else:
            compared.append(name)
    ref = set(reference.columns)
    for name in current.columns:
        if name not in ref:
            out.skipped[name] = "new column"
    return compared


def _definition(reference: pd.DataFrame, columns: list[str], out: DriftOutcome) -> Any:
    """Column types as Evidently infers them from the reference (so both sides agree)."""
    from evidently import DataDefinition
    from evidently.core.datasets import infer_column_type
    from evidently.legacy.core import ColumnType

    kinds: dict[str, list[str]] = {"num": [], "cat": [], "text": []}
    for name in columns:
        t = infer_column_type(reference[name])
        if t == ColumnType.Numerical:
            kinds["num"].append(name)
        elif t == ColumnType.Categorical:
            kinds["cat"].append(name)
        elif t == ColumnType.Text:
            kinds["text"].append(name)
        else:
            out.skipped[name] = f"not compared ({t.value})"
    return DataDefinition(numerical_columns=kinds["num"], categorical_columns=kinds["cat"],
                          text_columns=kinds["text"])


def compare(reference: pd.DataFrame, current: pd.DataFrame, report_html: Path | None = None,
            max_share: float = DEFAULT_MAX_SHARE) -> DriftOutcome:
    """Drift of each column of ``current`` against ``reference`` with Evidently's
    ``DataDriftPreset``; its HTML report (whose verdict uses ``max_share``) is written to
    ``report_html`` when given. Raises ImportError without Evidently."""
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    out = DriftOutcome()
    for side, frame in (("reference", reference), ("current", current)):
        if len(frame) < MIN_ROWS:
            out.problem = (f"the {side} data has {len(frame)} row{'' if len(frame) == 1 else 's'}"
                           f": too few to compare (at least {MIN_ROWS})")
            return out
    columns = _triage(reference, current, out)
    definition = _definition(reference, columns, out) if columns else None
    wanted = [c for c in columns if c not in out.skipped]
    if not wanted:
        if not out.columns:
            out.problem = "no column to compare (" + (
                "; ".join(f"{k}: {v}" for k, v in out.skipped.items()) or "no columns") + ")"
        return out
    with warnings.catch_warnings():  # scipy/sklearn chatter about tiny or constant columns
        warnings.simplefilter("ignore")
        preset = DataDriftPreset(columns=wanted, drift_share=max(max_share, 1e-9))
        snapshot = Report([preset], include_tests=True).run(
            Dataset.from_pandas(current[wanted], data_definition=definition),
            Dataset.from_pandas(reference[wanted], data_definition=definition))
        if report_html is not None:
            report_html.parent.mkdir(parents=True, exist_ok=True)
            snapshot.save_html(str(report_html))
            out.report = report_html
    found = snapshot.dict()
    failed = {t["metric_config"]["params"].get("column") for t in found["tests"]
              if t.get("status") == "FAIL" and t.get("id") == "drift"}
    for metric in found["metrics"]:
        cfg = metric.get("config") or {}
        if not str(cfg.get("type", "")).endswith(":ValueDrift"):
            continue
        name = cfg["column"]
        score = metric.get("value")
        out.columns.append(ColumnDrift(
            name, name in failed, score=None if score is None or score != score else float(score),
            method=cfg.get("method"), threshold=cfg.get("threshold")))
    order = {name: i for i, name in enumerate(reference.columns)}
    out.columns.sort(key=lambda c: order.get(c.column, len(order)))
    return out


# ---- the rule ---------------------------------------------------------------------------------


def _sample_path(run_dir: Path, rel: str) -> Path | None:
    from ..projects import ARTIFACT_DIRS

    for base in [*(run_dir / d for d in ARTIFACT_DIRS), run_dir]:
        if (base / rel).is_file():
            return base / rel
    return None


def _load(run_dir: Path, value: Any, what: str) -> tuple[pd.DataFrame | None, str]:
    """The sample ``value`` (a ``record_data`` output) points at, or why there is none."""
    import pandas as pd

    if not isinstance(value, dict) or value.get("kind") != "data":
        return None, f"{what} is not a data set recorded with record_data()"
    rel = value.get("sample")
    path = _sample_path(run_dir, rel) if isinstance(rel, str) and rel else None
    if path is None:
        return None, f"{what}: its sample {rel or ''} is not kept with the run"
    try:
        return pd.read_parquet(path), ""
    except (OSError, ValueError) as exc:
        return None, f"{what}: its sample {rel} cannot be read: {exc}"


def _reference_run(ctx: RuleContext, output: str,
                   reference: str) -> tuple[str | None, str]:
    """The run to compare with, or None and why there is none."""
    if reference in ("reference_run", "reference"):
        if ctx.reference_run_id:
            return ctx.reference_run_id, f"reference run {ctx.reference_run_id}"
        return None, f"no reference yet: v{ctx.version} has no reference run"
    if reference == "previous":
        runs = ctx.baseline_runs("previous", output)
        if runs:
            return runs[0], f"previous run {runs[0]}"
        return None, "no reference yet: no earlier healthy run recorded it"
    return reference, f"run {reference}"


def _output_name(data: str, column: str) -> str:
    return f"{data}.drift.{_OUTPUT_PART.sub('_', column).strip('_') or '_'}"[:128]


def _keep_report(ctx: RuleContext, path: Path) -> str:
    """List the report among the run's artifacts (the lab opens it sandboxed); its path there."""
    rel = path.relative_to(ctx.artifacts_dir).as_posix()
    listing_path = ctx.run_dir / "artifacts.json"
    listing = read_json(listing_path) or {"files": [], "not_kept": []}
    files = [f for f in listing.get("files", []) if f.get("path") != rel]
    files.append({"path": rel, "size": path.stat().st_size})
    atomic_write_json(listing_path, {**listing, "files": files})
    return rel


def _describe(c: ColumnDrift) -> str:
    if c.note:
        return f"{c.column} ({c.note})"
    if c.score is None:
        return c.column
    return f"{c.column} ({c.method} {c.score:.3g}, threshold {c.threshold:.3g})" \
        if c.threshold is not None else f"{c.column} ({c.method} {c.score:.3g})"


def _message(output: str, got: DriftOutcome, max_share: float, origin: str,
             report: str | None) -> str:
    n, bad = len(got.columns), got.drifted
    head = (f"{output}: {len(bad)} of {n} column{'' if n == 1 else 's'} drifted "
            f"({got.share:.0%} {'>' if got.share > max_share else '<='} max_share "
            f"{max_share:.0%}) against {origin}")
    parts = [head + (": " + ", ".join(_describe(c) for c in bad) if bad else "")]
    if got.skipped:
        parts.append("not counted: " + ", ".join(f"{k} ({v})" for k, v in got.skipped.items()))
    if report:
        parts.append(f"report {report}")
    return "; ".join(parts)


def check_drift(ctx: RuleContext, output: str, spec: OutputChecks) -> RuleOutcome:
    rule = DataDriftSpec.model_validate(spec.rule_value("drift") or {})
    max_share = DEFAULT_MAX_SHARE if rule.max_share is None else rule.max_share

    def result(passed: bool, message: str, value: float | None = None,
               outputs: dict[str, Any] | None = None) -> RuleOutcome:
        return RuleOutcome([CheckResult(name=output, rule="drift", bound=max_share, value=value,
                                        passed=passed, message=message)], outputs or {})

    if output not in ctx.outputs:
        return result(True, f"{output}: not recorded (drift not checked)")
    try:
        import evidently  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return result(True, f"{output}: drift not checked: {INSTALL_HINT}")
    current, why = _load(ctx.run_dir, ctx.outputs[output], output)
    if current is None:
        return result(False, why)
    ref_id, origin = _reference_run(ctx, output, rule.reference or "previous")
    if ref_id is None:
        return result(True, f"{output}: {origin} (drift passes)")
    found = ctx.session.execute(select(Run.run_dir, cast(Run.outputs, Text))
                                .where(Run.id == ref_id)).first()
    if found is None:
        return result(False, f"{output}: the reference {origin} does not exist")
    ref_outputs = json.loads(found[1]) if found[1] else {}
    if output not in (ref_outputs or {}):
        return result(False, f"{output}: the reference {origin} did not record it")
    reference, why = _load(Path(found[0]), ref_outputs[output], f"{origin}'s {output}")
    if reference is None:
        return result(False, f"{output}: {why}")
    try:
        got = compare(reference, current, ctx.artifacts_dir / f"drift-{output}.html", max_share)
    except ImportError:
        return result(True, f"{output}: drift not checked: {INSTALL_HINT}")
    if got.problem:
        return result(False, f"{output}: drift not measured against {origin}: {got.problem}")
    report = _keep_report(ctx, got.report) if got.report is not None else None
    outputs: dict[str, Any] = {_output_name(output, c.column): c.score
                               for c in got.columns if c.score is not None}
    outputs[f"{output}.drift_share"] = round(got.share, 6)
    return result(got.share <= max_share + 1e-12,
                  _message(output, got, max_share, origin, report), got.share, outputs)


register_rule("drift", check_drift, spec=DataDriftSpec)
