#!/usr/bin/env bash
# Ensure a separate virtualenv with an MLflow tracking server (the full `mlflow` package, which
# the MLflow test starts as `mlflow server` on 127.0.0.1). It is NOT the project's venv: the
# project only needs the client (the `[mlflow]` extra, mlflow-skinny). Prints the venv path on
# stdout; the test finds it through ML_SHIP_MLFLOW_VENV (or this script's default path).
#
# The install is skipped when the venv's marker matches the pinned requirement.
#
# Environment:
#   ML_SHIP_STATE_DIR      state dir (default ~/.cache/ml-ship)
#   ML_SHIP_MLFLOW_VENV    venv path (default $ML_SHIP_STATE_DIR/mlflow-venv)
set -euo pipefail

readonly NAME=mlflow-up
readonly REQUIREMENT='mlflow>=3.1,<4'
STATE="${ML_SHIP_STATE_DIR:-$HOME/.cache/ml-ship}"
VENV="${ML_SHIP_MLFLOW_VENV:-$STATE/mlflow-venv}"
MARKER="$VENV/.ml-ship-requirement"
T0=$EPOCHREALTIME

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

if [[ -x "$VENV/bin/mlflow" && "$(cat "$MARKER" 2>/dev/null)" == "$REQUIREMENT" ]]; then
  log "ready ($REQUIREMENT, $(elapsed))"
  echo "$VENV"
  exit 0
fi
UV=$(command -v uv || true)
if [[ -z "$UV" ]]; then
  HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  [[ -x "$HERE/../.venv/bin/uv" ]] && UV="$HERE/../.venv/bin/uv"
fi
mkdir -p "$STATE"
PY=$(command -v python3.11 || command -v python3)
if [[ -n "$UV" ]]; then
  "$UV" venv --quiet --clear --python "$PY" "$VENV" >&2
  "$UV" pip install --quiet --python "$VENV/bin/python" "$REQUIREMENT" >&2
else
  "$PY" -m venv --clear "$VENV"
  "$VENV/bin/pip" install --quiet "$REQUIREMENT" >&2
fi
echo "$REQUIREMENT" >"$MARKER"
log "installed $REQUIREMENT in $VENV ($(elapsed))"
echo "$VENV"
