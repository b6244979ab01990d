#!/usr/bin/env bash
# Run every test: bring up the real components (Docker engine, Airflow venv, Chromium) that
# ML_SHIP_REQUIRE names (CI names them all), run pytest and jest, stop what we started.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
export PATH="$PWD/$VENV/bin:$PATH"

cleanup() { if [ "${CI:-}" = true ]; then scripts/docker-down.sh >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT

"$VENV/bin/ruff" check jupyter_ml_ship tests bench
"$VENV/bin/mypy" jupyter_ml_ship
"$VENV/bin/lint-imports" --no-cache
scripts/services-up.sh

status=0
"$VENV/bin/python" -m pytest tests/python tests/ui -q -p no:cacheprovider --durations=20 || status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure" >&2
  status=1
fi
if [ -f package.json ] && [ -d node_modules ]; then
  jlpm test --silent || status=1
fi
exit "$status"
