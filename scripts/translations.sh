#!/usr/bin/env bash
# The extension's French catalogue (and any other locale given), with JupyterLab's tooling:
#   scripts/translations.sh update   extract every trans.__/_n/_p string of src/ and schema/ into
#                                    jupyter_ml_ship/locale/jupyter_ml_ship.pot, merge into the .po
#   scripts/translations.sh compile  .po -> .json (what JupyterLab's translation server sends the
#                                    lab) and .mo, in jupyter_ml_ship/locale/<locale>/LC_MESSAGES/
# The package declares the catalogue with the `jupyterlab.locale` entry point (pyproject.toml).
# jupyterlab-translate scans every folder of the directory it is given (and would scan .venv and
# node_modules here), so it runs on a copy of src/ (tests left out) and schema/.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export PATH="$REPO/.venv/bin:$PATH"
LOCALES=${LOCALES:-fr_FR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jupyter_ml_ship"
cp -r src schema "$work/"
rm -rf "$work/src/__tests__"
cp package.json "$work/jupyter_ml_ship/"  # the catalogue's version
[ -d jupyter_ml_ship/locale ] && cp -r jupyter_ml_ship/locale "$work/jupyter_ml_ship/"
# a fresh .pot (jupyterlab-translate merges into an existing one: strings gone from src/ would stay)
rm -f "$work/jupyter_ml_ship/locale/jupyter_ml_ship.pot"
args=()
for l in $LOCALES; do args+=(-l "$l"); done
case "${1:-update}" in
  update) (cd "$work" && jupyterlab-translate update . jupyter_ml_ship "${args[@]}") ;;
  compile) (cd "$work" && jupyterlab-translate compile . jupyter_ml_ship "${args[@]}") ;;
  *) echo "usage: $0 update|compile" >&2; exit 2 ;;
esac
mkdir -p jupyter_ml_ship/locale
cp -r "$work/jupyter_ml_ship/locale/." jupyter_ml_ship/locale/
# the .pot and .po name the sources from the copy: name them from the repository
find jupyter_ml_ship/locale -name '*.po*' -exec sed -i "s#$work/##g" {} +
