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

# pytest's exit code 5 (no test collected) is a failure too
check() {
  if [ "$2" -eq 5 ]; then echo "test.sh: pytest collected no $1 tests: that is a failure" >&2; return 1; fi
  return "$2"
}

status=0
PYTEST=("$VENV/bin/python" -m pytest -q -p no:cacheprovider)
if [ "${ML_SHIP_TEST_SERIAL:-0}" = 1 ]; then
  "${PYTEST[@]}" --durations=20 tests/python tests/ui || check all $? || status=1
else
  # The browser suite (one JupyterLab and Chromium) and the Python suite share nothing but the
  # machine: run them side by side. Most of each suite waits on kernels, containers and
  # renders, so on 2 cores the pair takes about the longer of the two, not their sum. The
  # browser suite's output is kept in a file and printed after the Python suite's.
  mkdir -p tests/ui/artifacts
  ui_log=tests/ui/artifacts/pytest-ui.log
  "${PYTEST[@]}" --durations=10 tests/ui >"$ui_log" 2>&1 &
  ui_pid=$!
  "${PYTEST[@]}" --durations=20 tests/python || check Python $? || status=1
  ui_status=0
  wait "$ui_pid" || ui_status=$?
  echo "=================== the browser suite (tests/ui, run beside the Python suite) ==================="
  cat "$ui_log"
  check browser "$ui_status" || status=1
fi
if [ -f package.json ] && [ -d node_modules ]; then
  jlpm test --silent || status=1
fi
exit "$status"
