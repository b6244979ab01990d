#!/usr/bin/env bash
# Ensure a separate virtualenv with Apache Airflow 3 (+ the docker, cncf-kubernetes
# and edge3 providers, + kubernetes-validate for offline pod-spec checks), installed
# with uv from the pinned, hashed lock tests/airflow/requirements.lock. It is NOT
# the project's venv. Prints the venv path on stdout; put "$VENV/bin" on PATH.
#
# The install is skipped when the venv's marker holds the lock's sha256
# (a warm run takes well under 2 s).
#
#   scripts/airflow-up.sh            ensure the venv
#   scripts/airflow-up.sh --relock   regenerate the lock (latest versions), then ensure
#
# Environment:
#   ML_SHIP_STATE_DIR       state dir (default ~/.cache/ml-ship)
#   ML_SHIP_AIRFLOW_VENV    venv path (default $ML_SHIP_STATE_DIR/airflow-venv)
#   ML_SHIP_AIRFLOW_PYTHON  interpreter for the venv (default: python3.11, else python3)
set -euo pipefail

readonly NAME=airflow-up
readonly UV_VERSION=0.13.9   # used only when no uv is on PATH
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOCK="$HERE/../tests/airflow/requirements.lock"
STATE="${ML_SHIP_STATE_DIR:-$HOME/.cache/ml-ship}"
VENV="${ML_SHIP_AIRFLOW_VENV:-$STATE/airflow-venv}"
MARKER="$VENV/.ml-ship-lock.sha256"
T0=$EPOCHREALTIME

# Top-level requirements of the lock (edit here, then run with --relock).
REQUIREMENTS=(
  'apache-airflow>=3,<4'
  'apache-airflow-providers-docker'
  'apache-airflow-providers-cncf-kubernetes'
  'apache-airflow-providers-edge3'
  'kubernetes-validate'
)

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

RELOCK=0
case "${1:-}" in
  '') ;;
  --relock) RELOCK=1 ;;
  -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument: $1 (try --help)" ;;
esac

[[ -f $LOCK || $RELOCK -eq 1 ]] || die "lock file missing: $LOCK"
mkdir -p "$STATE"

lock_sha() { sha256sum "$LOCK" | cut -d' ' -f1; }

# ---- warm path: nothing to do -------------------------------------------------
if [[ $RELOCK -eq 0 && -x $VENV/bin/airflow && -x $VENV/bin/kubernetes-validate ]] \
    && [[ $(cat "$MARKER" 2>/dev/null || true) == "$(lock_sha)" ]]; then
  log "ready: $VENV matches the lock ($(elapsed))"
  echo "$VENV"
  exit 0
fi

exec 9>"$STATE/airflow.lock"
flock -w 900 9 || die "timed out waiting for $STATE/airflow.lock"

# ---- tools ----------------------------------------------------------------------
PY="${ML_SHIP_AIRFLOW_PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
if [[ -z $PY ]] || ! "$PY" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
  die "need Python >= 3.10 for Airflow 3 (set ML_SHIP_AIRFLOW_PYTHON)"
fi
PY=$("$PY" -c 'import sys; print(sys.executable)')

export UV_PYTHON_DOWNLOADS=never          # managed Pythons come from GitHub: unreachable
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-1}"  # trust the platform CA store (TLS proxies)

if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
else
  UV="$STATE/uv-tool/bin/uv"
  if [[ ! -x $UV ]]; then
    log "installing uv $UV_VERSION into $STATE/uv-tool"
    rm -rf "$STATE/uv-tool"
    "$PY" -m venv "$STATE/uv-tool" || die "python -m venv failed"
    "$STATE/uv-tool/bin/python" -m pip install -q "uv==$UV_VERSION" >"$STATE/uv-tool.log" 2>&1 \
      || die "pip install uv==$UV_VERSION failed; see $STATE/uv-tool.log"
  fi
fi

# ---- optional: regenerate the lock ------------------------------------------------
if [[ $RELOCK -eq 1 ]]; then
  log "compiling $LOCK"
  mkdir -p "$(dirname "$LOCK")"
  printf '%s\n' "${REQUIREMENTS[@]}" \
    | "$UV" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
        --custom-compile-command 'scripts/airflow-up.sh --relock' -o "$LOCK" - \
    || die "uv pip compile failed"
  log "locked apache-airflow $(grep -oP '^apache-airflow==\K[^ ]+' "$LOCK")"
fi

# ---- install ----------------------------------------------------------------------
if [[ $(cat "$MARKER" 2>/dev/null || true) != "$(lock_sha)" ]] || [[ ! -x $VENV/bin/airflow ]]; then
  if ! "$VENV/bin/python" -c '' 2>/dev/null; then
    log "creating venv $VENV ($PY)"
    "$UV" venv --quiet --clear --python "$PY" "$VENV" || die "uv venv failed"
  fi
  rm -f "$MARKER"
  log "installing the lock into $VENV with uv"
  t=$EPOCHREALTIME
  # --compile-bytecode: otherwise the first `airflow` call spends ~10 s writing .pyc files.
  "$UV" pip sync --quiet --require-hashes --compile-bytecode --python "$VENV/bin/python" "$LOCK" \
    || die "uv pip sync -r $LOCK failed"
  log "installed in $(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }')"

  # Verify before writing the marker. A throw-away AIRFLOW_HOME keeps ~/airflow clean.
  home=$(mktemp -d)
  version=$(AIRFLOW_HOME="$home" "$VENV/bin/airflow" version 2>/dev/null | tail -n1) \
    || { rm -rf "$home"; die "'$VENV/bin/airflow version' failed"; }
  rm -rf "$home"
  [[ $version == 3.* ]] || die "expected Airflow 3.x, got '$version'"
  "$VENV/bin/kubernetes-validate" --help >/dev/null 2>&1 \
    || die "'$VENV/bin/kubernetes-validate --help' failed"
  log "verified: airflow $version, kubernetes-validate OK"
  lock_sha >"$MARKER"
fi

log "ready: $VENV ($(elapsed))"
echo "$VENV"
