#!/usr/bin/env bash
# Ensure a running Docker engine and the local base image, idempotently.
#
#   - keeps a Docker engine that already answers `docker info`;
#   - otherwise installs docker.io (apt) if needed and starts dockerd in the
#     background (no systemd), recording its pid so scripts/docker-down.sh can
#     stop it again -- and only it;
#   - makes sure the base image ($ML_SHIP_DOCKER_BASE_IMAGE, default
#     ml-ship/base:bookworm) exists: loaded from a cached tarball, or built with
#     debootstrap (no container registry is needed) and cached.
#
# Environment:
#   ML_SHIP_STATE_DIR            state/cache dir (default ~/.cache/ml-ship)
#   ML_SHIP_DOCKER_BASE_IMAGE    base image name (default ml-ship/base:bookworm)
#   ML_SHIP_DOCKER_BASE_BUILD    auto (default): build locally only ml-ship/* names,
#                                pull anything else; 1: always build; 0: never build
#   ML_SHIP_DEBIAN_MIRROR        mirror for debootstrap (default http://deb.debian.org/debian)
#
# A warm run (engine up, image present and verified) takes well under 2 s.
set -euo pipefail

readonly NAME=docker-up
STATE="${ML_SHIP_STATE_DIR:-$HOME/.cache/ml-ship}"
IMAGE="${ML_SHIP_DOCKER_BASE_IMAGE:-ml-ship/base:bookworm}"
BUILD_MODE="${ML_SHIP_DOCKER_BASE_BUILD:-auto}"
MIRROR="${ML_SHIP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
DEFAULT_IMAGE=ml-ship/base:bookworm
PIDFILE="$STATE/dockerd.pid"
OURS="$STATE/dockerd.ours"
LOG="$STATE/dockerd.log"
T0=$EPOCHREALTIME

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

SUDO=()
if [[ $EUID -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  fi
fi
need_root() {
  [[ $EUID -eq 0 || ${#SUDO[@]} -gt 0 ]] || die "need root (or passwordless sudo) to $*"
}

# apt-get update at most once per run, and not at all if another ml-ship script
# refreshed the package lists within the last hour.
APT_UPDATED=0
apt_install() {
  need_root "install $*"
  local stamp="$STATE/apt-updated.stamp"
  if [[ $APT_UPDATED -eq 0 ]] && [[ -z $(find "$stamp" -mmin -60 2>/dev/null) ]]; then
    log "apt-get update"
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq \
      || log "warning: apt-get update reported errors; trying the install anyway"
    APT_UPDATED=1
    touch "$stamp"
  fi
  log "apt-get install $* (log: $STATE/apt.log)"
  if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 \
      install -y -qq --no-install-recommends "$@" >>"$STATE/apt.log" 2>&1; then
    tail -n 15 "$STATE/apt.log" >&2
    die "apt-get install $* failed; see $STATE/apt.log"
  fi
}

docker_ok() { timeout 5 docker info >/dev/null 2>&1; }
pid_is_dockerd() { [[ -n ${1:-} && -r /proc/$1/comm && $(cat "/proc/$1/comm" 2>/dev/null) == dockerd ]]; }

mkdir -p "$STATE"
# Serialise concurrent runs (several test sessions may call this at once).
exec 9>"$STATE/docker.lock"
flock -w 900 9 || die "timed out waiting for $STATE/docker.lock"

# Forget a stale "ours" record (the dockerd we started has gone away).
if [[ -f $OURS ]] && ! pid_is_dockerd "$(cat "$PIDFILE" 2>/dev/null || true)"; then
  rm -f "$OURS" "$PIDFILE"
fi

# ---------------------------------------------------------------- engine ---
if command -v docker >/dev/null 2>&1 && docker_ok; then
  :
else
  if [[ -n ${DOCKER_HOST:-} && ${DOCKER_HOST} != unix:///var/run/docker.sock ]]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer 'docker info'; not starting a local dockerd"
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    apt_install docker.io
  fi
  command -v dockerd >/dev/null 2>&1 || die "dockerd not found after installing docker.io"

  existing=$(pgrep -x dockerd | head -n1 || true)
  if [[ -n $existing ]]; then
    log "dockerd already running (pid $existing) but not answering yet; waiting"
    dpid=$existing
  else
    need_root "start dockerd"
    log "starting dockerd (log: $LOG)"
    # setsid: own session, so the engine outlives this script and its process
    # group; 9>&-: do not let it inherit (and hold) our lock.
    "${SUDO[@]}" setsid dockerd >>"$LOG" 2>&1 </dev/null 9>&- &
    dpid=$!
    echo "$dpid" >"$PIDFILE"
    echo "DOCKERD_STARTED_BY_US=1" >"$OURS"
  fi
  for _ in $(seq 1 150); do
    docker_ok && break
    if ! kill -0 "$dpid" 2>/dev/null; then
      rm -f "$OURS" "$PIDFILE"
      tail -n 20 "$LOG" >&2 2>/dev/null || true
      die "dockerd (pid $dpid) exited during start-up; see $LOG"
    fi
    sleep 0.2
  done
  docker_ok || die "dockerd (pid $dpid) did not answer 'docker info' within 30 s; see $LOG"
  # Under sudo, $! is sudo's pid: record dockerd's own pid instead.
  real=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [[ -f $OURS ]] && [[ $real != "$dpid" ]] && pid_is_dockerd "$real"; then
    dpid=$real
    echo "$dpid" >"$PIDFILE"
  fi
  log "dockerd ready (pid $dpid, $(elapsed))"
fi
log "engine: $(timeout 5 docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"

# ------------------------------------------------------------ base image ---
if [[ $IMAGE == "$DEFAULT_IMAGE" ]]; then
  CACHE="$STATE/base-image.tar.gz"
else
  CACHE="$STATE/base-image-$(printf '%s' "$IMAGE" | tr -c 'A-Za-z0-9._-' '_').tar.gz"
fi
VERIFIED="$CACHE.verified"   # holds the image id that passed the smoke test

image_id() { docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null; }

WORK=
cleanup_work() {
  [[ -n $WORK && -d $WORK ]] || return 0
  local m
  for m in proc sys dev/pts dev; do "${SUDO[@]}" umount -l "$WORK/root/$m" 2>/dev/null || true; done
  "${SUDO[@]}" rm -rf --one-file-system "$WORK"
}

build_image() {
  need_root "run debootstrap"
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  local root
  WORK=$(mktemp -d "$STATE/debootstrap.XXXXXX")
  root="$WORK/root"
  trap cleanup_work EXIT
  log "debootstrap $SUITE from $MIRROR (about a minute; log: $STATE/debootstrap.log)"
  "${SUDO[@]}" debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates \
    "$SUITE" "$root" "$MIRROR" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -n 20 "$STATE/debootstrap.log" >&2; die "debootstrap failed; see $STATE/debootstrap.log"; }
  "${SUDO[@]}" rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/var/log/bootstrap.log "$root"/debootstrap
  log "docker import $IMAGE"
  "${SUDO[@]}" tar -C "$root" --numeric-owner \
      --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -c . \
    | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        - "$IMAGE" >/dev/null \
    || die "docker import failed"
  cleanup_work
  trap - EXIT
  log "caching image to $CACHE"
  docker save "$IMAGE" | gzip -1 >"$CACHE.tmp" || die "docker save failed"
  mv -f "$CACHE.tmp" "$CACHE"
}

if ! image_id >/dev/null; then
  if [[ -s $CACHE ]]; then
    log "loading $IMAGE from $CACHE"
    docker load -q -i "$CACHE" >/dev/null || log "warning: docker load from $CACHE failed"
    image_id >/dev/null || log "warning: $CACHE did not provide $IMAGE; rebuilding it"
  fi
fi
if ! image_id >/dev/null; then
  case "$BUILD_MODE:$IMAGE" in
    1:* | auto:ml-ship/*) build_image ;;
    *)
      log "pulling $IMAGE"
      timeout 300 docker pull -q "$IMAGE" >/dev/null \
        || die "cannot pull $IMAGE (no registry?); use an ml-ship/* name or ML_SHIP_DOCKER_BASE_BUILD=1 to build it locally"
      ;;
  esac
fi

id=$(image_id) || die "image $IMAGE still missing"
if [[ $(cat "$VERIFIED" 2>/dev/null || true) != "$id" ]]; then
  out=$(docker run --rm --network none "$IMAGE" python3 -c "import sys; print('ok', sys.version.split()[0])" 2>&1) \
    || die "smoke test of $IMAGE failed: $out"
  [[ $out == ok* ]] || die "smoke test of $IMAGE printed: $out"
  log "image $IMAGE verified (python ${out#ok })"
  echo "$id" >"$VERIFIED"
fi
log "ready: engine up, image $IMAGE ($(elapsed))"
