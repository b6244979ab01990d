#!/usr/bin/env bash
# R and IRkernel for the R notebook and script tests: idempotent, fast when present.
#
#   scripts/r-up.sh     installs r-base-core + r-cran-irkernel (Debian, --no-install-recommends:
#                       about 40 packages instead of 655) when R or IRkernel is missing, registers
#                       the kernel for Jupyter (kernel name `ir`, system-wide) when it is not,
#                       and prints ok. Needs root (apt) only when something must be installed.
#
#   VENV                the venv whose `jupyter` registers the kernel (default .venv)
set -euo pipefail

readonly NAME=r-up
VENV="${VENV:-.venv}"
log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$NAME" "$1" >&2; exit "${2:-1}"; }

[[ -x $VENV/bin/jupyter ]] || die "no $VENV/bin/jupyter (run make setup first)"
export PATH="$VENV/bin:$PATH"   # IRkernel::installspec() calls `jupyter kernelspec install`

have_irkernel() {
  command -v R >/dev/null 2>&1 &&
    R --slave -e 'quit(status = !all(sapply(c("IRkernel", "IRdisplay", "jsonlite"), requireNamespace, quietly = TRUE)))' >/dev/null 2>&1
}

if ! have_irkernel; then
  [[ $(id -u) -eq 0 ]] || die "R or IRkernel is missing; as root: apt-get install -y --no-install-recommends r-base-core r-cran-irkernel"
  log "installing r-base-core and r-cran-irkernel (apt, --no-install-recommends)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends r-base-core r-cran-irkernel >&2 \
    || die "apt-get install r-base-core r-cran-irkernel failed"
  have_irkernel || die "R is installed but IRkernel does not load"
fi

if ! jupyter kernelspec list 2>/dev/null | awk '{print $1}' | grep -qx ir; then
  log "registering the IRkernel kernel for Jupyter (name: ir)"
  if [[ $(id -u) -eq 0 ]]; then
    R -q -e 'IRkernel::installspec(user = FALSE)' >&2 || die "IRkernel::installspec() failed"
  else
    R -q -e 'IRkernel::installspec(user = TRUE)' >&2 || die "IRkernel::installspec() failed"
  fi
  jupyter kernelspec list 2>/dev/null | awk '{print $1}' | grep -qx ir \
    || die "the ir kernel is still not listed by 'jupyter kernelspec list'"
fi

log "ok: $(R --version | head -n 1), IRkernel $(R --slave -e 'cat(as.character(packageVersion("IRkernel")))'), kernel 'ir'"
