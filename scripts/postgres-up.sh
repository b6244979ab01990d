#!/usr/bin/env bash
# Ensure PostgreSQL server binaries (initdb, pg_ctl) and a `postgres` OS user exist.
# The tests start their own throw-away cluster on 127.0.0.1 and stop it (tests/python/pg.py).
set -euo pipefail
log() { printf '[postgres-up] %s\n' "$*" >&2; }
find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [[ -z "$(find_bin)" ]]; then
  log "installing postgresql (apt)"
  STATE="${ML_SHIP_STATE_DIR:-$HOME/.cache/ml-ship}"
  mkdir -p "$STATE"
  apt-get update -qq >>"$STATE/apt.log" 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >>"$STATE/apt.log" 2>&1
fi
bin=$(find_bin)
[[ -x "$bin/initdb" ]] || { log "ERROR: no initdb found"; exit 1; }
id postgres >/dev/null 2>&1 || { log "ERROR: no 'postgres' user"; exit 1; }
log "ok: $("$bin/postgres" --version)"
echo "$bin"
