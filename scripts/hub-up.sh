#!/usr/bin/env bash
# Ensure JupyterHub's proxy (configurable-http-proxy, from npm) is installed for the team-mode
# tests (tests/python/test_hub.py), in a cache folder: $ML_SHIP_STATE_DIR/chp (default
# ~/.cache/ml-ship/chp). The jupyterhub package itself comes from the [test] extra. Prints the
# proxy's path on stdout.
set -euo pipefail
log() { printf '[hub-up] %s\n' "$*" >&2; }
STATE="${ML_SHIP_STATE_DIR:-$HOME/.cache/ml-ship}"
DIR="$STATE/chp"
BIN="$DIR/node_modules/.bin/configurable-http-proxy"
if [[ ! -x $BIN ]]; then
  command -v npm >/dev/null || { log "ERROR: npm not found (Node 20 + npm are needed)"; exit 1; }
  log "installing configurable-http-proxy into $DIR (npm)"
  mkdir -p "$DIR"
  npm install --no-audit --no-fund --prefix "$DIR" configurable-http-proxy@^5 >"$STATE/chp-npm.log" 2>&1 \
    || { log "ERROR: npm install failed (see $STATE/chp-npm.log)"; exit 1; }
fi
"$BIN" --version >/dev/null 2>&1 || { log "ERROR: $BIN does not start"; exit 1; }
PY="${ML_SHIP_PYTHON:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/bin/python}"
if [[ -x $PY ]] && ! "$PY" -c "import jupyterhub" 2>/dev/null; then
  log "ERROR: the jupyterhub package is missing from $PY (pip install -e '.[test]')"; exit 1
fi
log "ok: configurable-http-proxy $("$BIN" --version)"
echo "$BIN"
