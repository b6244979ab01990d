#!/usr/bin/env bash
# Stop the Docker engine -- but only one that scripts/docker-up.sh started
# (recorded in $STATE/dockerd.ours + $STATE/dockerd.pid). An engine started by
# anyone else (systemd, a developer, another tool) is left alone.
#
# It is also left running while it still has running containers (someone else
# may be using a shared engine), unless --force is given.
#
#   scripts/docker-down.sh [--force]
#
# Environment:
#   ML_SHIP_STATE_DIR              state dir (default ~/.cache/ml-ship)
#   ML_SHIP_DOCKERD_STOP_TIMEOUT   seconds to wait after SIGTERM before SIGKILL (default 30)
#   ML_SHIP_KEEP_DOCKERD=1         never stop it (shared developer machines)
set -euo pipefail

readonly NAME=docker-down
STATE="${ML_SHIP_STATE_DIR:-$HOME/.cache/ml-ship}"
PIDFILE="$STATE/dockerd.pid"
OURS="$STATE/dockerd.ours"
STOP_TIMEOUT="${ML_SHIP_DOCKERD_STOP_TIMEOUT:-30}"

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }

# Alive = exists, is not a zombie, and is still a dockerd (guards against pid reuse).
alive_dockerd() {
  local pid=$1 state
  [[ -r /proc/$pid/comm && $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] || return 1
  state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z ]]
}

FORCE=0
case "${1:-}" in
  '') ;;
  --force) FORCE=1 ;;
  *) die "unknown argument: $1 (usage: docker-down.sh [--force])" ;;
esac
if [[ ${ML_SHIP_KEEP_DOCKERD:-0} == 1 ]]; then
  log "ML_SHIP_KEEP_DOCKERD=1: leaving dockerd running"
  exit 0
fi
[[ -d $STATE ]] || { log "no state dir $STATE; nothing to stop"; exit 0; }
exec 9>"$STATE/docker.lock"
flock -w 900 9 || die "timed out waiting for $STATE/docker.lock"

if ! grep -qx 'DOCKERD_STARTED_BY_US=1' "$OURS" 2>/dev/null; then
  log "dockerd was not started by docker-up.sh; leaving it alone"
  exit 0
fi
pid=$(cat "$PIDFILE" 2>/dev/null || true)
if [[ ! $pid =~ ^[0-9]+$ ]]; then
  rm -f "$OURS" "$PIDFILE"
  die "bad or missing pid file $PIDFILE; removed the stale record, stopped nothing"
fi
if ! alive_dockerd "$pid"; then
  log "our dockerd (pid $pid) is not running any more"
  rm -f "$OURS" "$PIDFILE"
  exit 0
fi

running=$(timeout 10 docker ps -q 2>/dev/null | wc -l || true)
if [[ $FORCE -eq 0 && ${running:-0} -gt 0 ]]; then
  log "our dockerd (pid $pid) still has $running running container(s); leaving it (use --force)"
  exit 0
fi

SUDO=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); fi

log "stopping dockerd (pid $pid)"
"${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 $((STOP_TIMEOUT * 5))); do
  alive_dockerd "$pid" || break
  sleep 0.2
done
if alive_dockerd "$pid"; then
  log "dockerd did not exit within ${STOP_TIMEOUT}s; sending SIGKILL"
  "${SUDO[@]}" kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 25); do
    alive_dockerd "$pid" || break
    sleep 0.2
  done
  alive_dockerd "$pid" && die "dockerd (pid $pid) is still running after SIGKILL"
fi
rm -f "$OURS" "$PIDFILE"
log "dockerd stopped"
