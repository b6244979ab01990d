#!/usr/bin/env bash
# Ensure a real Chromium (and its WebDriver) for the browser tests, idempotently,
# and print its version on stdout. Playwright's own browser download is not
# reachable here: tests use executable_path=$ML_SHIP_CHROMIUM (default /usr/bin/chromium).
#
# Environment:
#   ML_SHIP_STATE_DIR   state dir for logs/stamps (default ~/.cache/ml-ship)
#   ML_SHIP_CHROMIUM    browser binary to check (default /usr/bin/chromium)
set -euo pipefail

readonly NAME=browser-up
STATE="${ML_SHIP_STATE_DIR:-$HOME/.cache/ml-ship}"
CHROMIUM="${ML_SHIP_CHROMIUM:-/usr/bin/chromium}"
T0=$EPOCHREALTIME

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

SUDO=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
fi

# apt-get update at most once per run, and not at all if another ml-ship script
# refreshed the package lists within the last hour.
apt_install() {
  [[ $EUID -eq 0 || ${#SUDO[@]} -gt 0 ]] || die "need root (or passwordless sudo) to install $*"
  local stamp="$STATE/apt-updated.stamp"
  if [[ -z $(find "$stamp" -mmin -60 2>/dev/null) ]]; then
    log "apt-get update"
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq \
      || log "warning: apt-get update reported errors; trying the install anyway"
    touch "$stamp"
  fi
  log "apt-get install $* (log: $STATE/apt.log)"
  if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 \
      install -y -qq "$@" >>"$STATE/apt.log" 2>&1; then
    tail -n 15 "$STATE/apt.log" >&2
    die "apt-get install $* failed; see $STATE/apt.log"
  fi
}

mkdir -p "$STATE"
if [[ ! -x $CHROMIUM ]] || ! command -v chromedriver >/dev/null 2>&1; then
  [[ $CHROMIUM == /usr/bin/chromium ]] \
    || die "$CHROMIUM not found (ML_SHIP_CHROMIUM points to a browser this script does not install)"
  exec 9>"$STATE/apt-browser.lock"
  flock -w 900 9 || die "timed out waiting for $STATE/apt-browser.lock"
  if [[ ! -x $CHROMIUM ]] || ! command -v chromedriver >/dev/null 2>&1; then
    apt_install chromium chromium-driver
  fi
  [[ -x $CHROMIUM ]] || die "$CHROMIUM still missing after installing chromium"
fi

# Chromium refuses to run as root without --no-sandbox; --version does not need it.
version=$(timeout 20 "$CHROMIUM" --version 2>/dev/null) \
  || die "$CHROMIUM --version failed"
# One headless page load per installed version (about 1 s; skipped when warm).
if [[ $(cat "$STATE/chromium.verified" 2>/dev/null || true) != "$version" ]]; then
  dom=$(timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --disable-background-networking --disable-component-update \
        --dump-dom 'data:text/html,<p>ml-ship-ok</p>' 2>/dev/null) || true
  [[ $dom == *ml-ship-ok* ]] || die "$CHROMIUM --headless could not render a page"
  echo "$version" >"$STATE/chromium.verified"
  log "headless smoke test passed"
fi
echo "$version"
log "ready: $version, $(chromedriver --version 2>/dev/null | head -n1 | cut -d' ' -f1-2) ($(elapsed))"
