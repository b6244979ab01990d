#!/usr/bin/env bash
# The [monitoring] extra (Evidently, pyarrow) for the drift checks: nothing to start, only to
# find. `make setup` installs it with the test extra; this says whether the venv has it.
set -euo pipefail
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
[[ -x $PY ]] || { echo "[monitoring-up] ERROR: no $PY (run make setup)" >&2; exit 1; }
if "$PY" -c 'import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ("evidently", "pyarrow")) else 1)'; then
  echo "[monitoring-up] ok: evidently and pyarrow are installed" >&2
else
  echo "[monitoring-up] ERROR: evidently/pyarrow missing: pip install 'jupyter_ml_ship[monitoring]'" >&2
  exit 1
fi
