"""``record(name, value)``: how a notebook hands values to the run, the lab and downstream steps;
``record_data(name, frame_or_path)``: the same for a data set, so later runs can be checked for
drift against it.

A recorded value is a display output of mimetype ``OUTPUT_MIMETYPE`` in the output notebook, so it
survives any backend (a subprocess, a container, an Airflow task) and is parsed back afterwards.
A data set is recorded as a value ``{"kind": "data", "sample": PATH, "rows", "columns",
"profile"}``: PATH is a capped random sample written as Parquet among the run's artifacts
(relative to ``$ML_SHIP_ARTIFACTS_DIR``, which the runner sets), so it travels like any other file
the run wrote. pandas and pyarrow are imported only when a data set is recorded.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

OUTPUT_MIMETYPE = "application/vnd.jupyter-ml-ship.output+json"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
#: set by the runner: the folder whose files become the run's artifacts
ARTIFACTS_ENV = "ML_SHIP_ARTIFACTS_DIR"
#: where, among the artifacts, ``record_data`` keeps its samples
DATA_FOLDER = "ml-ship-data"
#: most rows of a data set kept as its sample (drawn at random, with a fixed seed)
MAX_SAMPLE_ROWS = 50_000
SAMPLE_SEED = 0
#: most categories listed in a column's profile
TOP_CATEGORIES = 10
_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _check_name(func: str, name: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"{func}(): output name {name!r} is not allowed; use letters, digits, '_', '.', '-'"
        )


def record(name: str, value: Any) -> None:
    """Record an output of this run (JSON-serializable), visible in the lab and to later steps."""
    _check_name("record", name)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"record({name!r}, ...): the value must be JSON-serializable "
            f"(got {type(value).__name__}: {exc})"
        ) from None
    _display(name, value, f"{name} = {value!r}")


def _display(name: str, value: Any, text: str) -> None:
    from IPython.display import display

    display({OUTPUT_MIMETYPE: {"name": name, "value": value}, "text/plain": text}, raw=True)


def parse_outputs(nb: Any) -> dict[str, Any]:
    """Recorded values of an executed notebook (a later record of the same name wins)."""
    found: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            data = out.get("data") or {}
            payload = data.get(OUTPUT_MIMETYPE)
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload)
                except ValueError:
                    continue
            if isinstance(payload, dict) and "name" in payload:
                found[str(payload["name"])] = payload.get("value")
    return found


# ---- data sets ------------------------------------------------------------------------------

def _read_table(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise FileNotFoundError(f"record_data(): no file {str(path)!r}")
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zip", ".xz", ".zst"):
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if kind in (".csv", ".tsv"):
        return pd.read_csv(path, sep="\t" if kind == ".tsv" else ",")
    raise ValueError(f"record_data(): {str(path)!r} is neither CSV (.csv, .tsv) nor Parquet "
                     "(.parquet, .pq); read it into a pandas DataFrame and pass that")


def _as_frame(data: Any) -> Any:
    """A pandas DataFrame with string column names, from a frame, a Series or a file path."""
    import pandas as pd

    if isinstance(data, (str, os.PathLike)):
        data = _read_table(Path(os.fspath(data)).expanduser())
    elif isinstance(data, pd.Series):
        data = data.to_frame()
    elif not isinstance(data, pd.DataFrame):
        raise TypeError("record_data(): expected a pandas DataFrame or the path of a CSV or "
                        f"Parquet file, got {type(data).__name__}")
    from collections import Counter

    names = [str(c) for c in data.columns]
    dupes = sorted(n for n, count in Counter(names).items() if count > 1)
    if dupes:
        raise ValueError(f"record_data(): column name(s) {', '.join(map(repr, dupes))} appear "
                         "more than once; rename them first")
    frame = data.copy(deep=False)
    frame.columns = names
    return frame.reset_index(drop=True)


def _number(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _column_profile(col: Any) -> dict[str, Any]:
    """Type, missing share, and mean/std/quantiles (numbers) or the top categories (others)."""
    import pandas as pd
    from pandas.api import types as t

    rows = len(col)
    missing = int(col.isna().sum())
    found: dict[str, Any] = {"type": str(col.dtype),
                             "missing": round(missing / rows, 6) if rows else 0.0}
    values = col.dropna()
    if t.is_bool_dtype(col.dtype) or not (t.is_numeric_dtype(col.dtype)
                                          or t.is_datetime64_any_dtype(col.dtype)):
        counts = values.astype(str).value_counts()
        found["unique"] = int(len(counts))
        found["top"] = {str(k): int(v) for k, v in counts.head(TOP_CATEGORIES).items()}
        return found
    if t.is_datetime64_any_dtype(col.dtype):
        found["min"] = None if values.empty else str(values.min())
        found["max"] = None if values.empty else str(values.max())
        return found
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    found["mean"] = _number(numbers.mean()) if len(numbers) else None
    found["std"] = _number(numbers.std()) if len(numbers) > 1 else None
    qs = numbers.quantile(list(_QUANTILES)) if len(numbers) else None
    for q in _QUANTILES:
        found[f"q{round(q * 100):02d}"] = None if qs is None else _number(qs.loc[q])
    return found


def profile(frame: Any) -> dict[str, dict[str, Any]]:
    """Per column of a DataFrame: type, missing share, mean/std/quantiles or top categories."""
    return {str(name): _column_profile(frame[name]) for name in frame.columns}


def _as_text(value: Any) -> Any:
    return value if value is None or (isinstance(value, float) and math.isnan(value)) \
        else str(value)


def _write_sample(frame: Any, path: Path) -> None:
    """``frame`` as Parquet; object columns of mixed types are written as text."""
    try:
        import pyarrow as pa
    except ImportError:
        raise ImportError("record_data() keeps its sample as Parquet, which needs pyarrow: add "
                          "it to the job's requirements (pip install pyarrow, or "
                          "jupyter_ml_ship[monitoring])") from None

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.partial{path.suffix}")
    try:
        frame.to_parquet(tmp, index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        mixed = {c: frame[c].map(_as_text) for c in frame.columns if frame[c].dtype == object}
        frame.assign(**mixed).to_parquet(tmp, index=False)
    os.replace(tmp, path)


def record_data(name: str, data: Any) -> None:
    """Record a data set (a pandas DataFrame, or the path of a CSV or Parquet file) as output
    ``name``: its profile, and, in a run, a random sample of at most ``MAX_SAMPLE_ROWS`` rows
    kept with the run as Parquet, which a ``drift`` check compares with a reference run's."""
    _check_name("record_data", name)
    frame = _as_frame(data)
    rows = len(frame)
    sample = frame.sample(n=MAX_SAMPLE_ROWS, random_state=SAMPLE_SEED) \
        if rows > MAX_SAMPLE_ROWS else frame
    value: dict[str, Any] = {"kind": "data", "sample": None, "rows": rows,
                             "sample_rows": len(sample), "columns": list(frame.columns),
                             "profile": profile(frame)}
    root = os.environ.get(ARTIFACTS_ENV)
    if root:  # in a run; outside one nothing is written into the user's folder
        rel = f"{DATA_FOLDER}/{name}.parquet"
        _write_sample(sample, Path(root) / rel)
        value["sample"] = rel
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:  # a profile is plain numbers and text: a bug if not
        raise TypeError(f"record_data({name!r}, ...): its profile is not JSON: {exc}") from None
    kept = f", a sample of {len(sample)} kept as {value['sample']}" if value["sample"] else ""
    _display(name, value, f"{name}: data set of {rows} rows x {len(frame.columns)} columns{kept}")
