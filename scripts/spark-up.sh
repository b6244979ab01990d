#!/usr/bin/env bash
# PySpark and Java for the Spark tests: checks only, nothing to start (the tests start their own
# standalone cluster, a master and two workers from pyspark's jars on 127.0.0.1, and stop it).
#
#   scripts/spark-up.sh   installs pyspark into the venv when it is missing (uv, from PyPI:
#                         about 490 MB), checks that `java` (17+) runs, and prints ok.
#
#   VENV                  the venv (default .venv)
set -euo pipefail

readonly NAME=spark-up
VENV="${VENV:-.venv}"
log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$NAME" "$1" >&2; exit "${2:-1}"; }

[[ -x $VENV/bin/python ]] || die "no $VENV/bin/python (run make setup first)"

if ! "$VENV/bin/python" -c 'import pyspark' >/dev/null 2>&1; then
  log "installing pyspark into $VENV"
  if [[ -x $VENV/bin/uv ]]; then
    "$VENV/bin/uv" pip install --python "$VENV/bin/python" pyspark >&2 || die "pip install pyspark failed"
  else
    "$VENV/bin/python" -m pip install -q pyspark >&2 || die "pip install pyspark failed"
  fi
fi

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
command -v "$JAVA" >/dev/null 2>&1 || die "no java on PATH (Spark needs Java 17+; Debian: apt-get install -y openjdk-17-jre-headless)"
version=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
major=${version%%.*}
[[ $major =~ ^[0-9]+$ && $major -ge 17 ]] || die "java $version is too old (Spark 4 needs 17+)"

spark=$("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)')
log "ok: pyspark $spark, java $version"
echo ok
