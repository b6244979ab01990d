#!/usr/bin/env bash
# Bring up the real external components the test-suite needs.
#
#   ML_SHIP_REQUIRE=docker,airflow,browser scripts/services-up.sh
#       CI mode: every listed component must come up, else exit 1.
#   scripts/services-up.sh          (ML_SHIP_REQUIRE empty)
#       developer-laptop mode: try docker and browser best-effort, warn, exit 0.
#
# Components: docker (scripts/docker-up.sh), browser (scripts/browser-up.sh),
# airflow (scripts/airflow-up.sh), postgres (scripts/postgres-up.sh: server binaries only;
# the tests start and stop their own cluster on 127.0.0.1), mlflow (scripts/mlflow-up.sh: an
# mlflow server in its own venv; the tests start and stop it), hub (scripts/hub-up.sh:
# configurable-http-proxy from npm for the JupyterHub tests), monitoring (scripts/monitoring-up.sh:
# the [monitoring] extra, Evidently, installed by make setup; nothing to start), r
# (scripts/r-up.sh: R and IRkernel from Debian, the `ir` Jupyter kernel registered). The component scripts' progress goes to stderr;
# stdout gets one line, ML_SHIP_AVAILABLE=<comma list of components that are up>.
set -euo pipefail

readonly NAME=services-up
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KNOWN=(docker browser airflow postgres mlflow hub monitoring r spark)   # also the order they are brought up in
T0=$EPOCHREALTIME

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$NAME" "$1" >&2; exit "${2:-1}"; }
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

declare -A WANT=()
raw="${ML_SHIP_REQUIRE:-}"
raw="${raw//[[:space:]]/}"
if [[ -n $raw ]]; then
  STRICT=1
  IFS=',' read -r -a items <<<"${raw,,}"
  for c in "${items[@]}"; do
    [[ -z $c ]] && continue
    [[ " ${KNOWN[*]} " == *" $c "* ]] || die "unknown component '$c' in ML_SHIP_REQUIRE (known: ${KNOWN[*]})" 2
    WANT[$c]=1
  done
else
  STRICT=0
  WANT[docker]=1
  WANT[browser]=1
  log "ML_SHIP_REQUIRE is empty: best-effort docker and browser"
fi

up=()
failed=()
for c in "${KNOWN[@]}"; do
  [[ -n ${WANT[$c]:-} ]] || continue
  # Component scripts print results on stdout; keep ours to the summary line.
  if bash "$HERE/$c-up.sh" >&2; then
    up+=("$c")
  else
    failed+=("$c")
    if [[ $STRICT -eq 1 ]]; then
      log "FAILED: required component '$c' (see messages above)"
    else
      log "warning: '$c' is not available; tests that need it will be skipped"
    fi
  fi
done

avail=$(IFS=,; echo "${up[*]}")
echo "ML_SHIP_AVAILABLE=$avail"
if [[ ${#failed[@]} -gt 0 && $STRICT -eq 1 ]]; then
  die "required component(s) failed: ${failed[*]} ($(elapsed))"
fi
log "done: up=${avail:-none}${failed[*]:+ unavailable=${failed[*]}} ($(elapsed))"
