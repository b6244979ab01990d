#!/bin/sh
# Sales per region of a CSV (region,amount) -- a plain shell script, as a data engineer writes it.
#   sh src/regions.sh CLEAN.csv OUT.txt [EXPECTED_ROWS]
set -eu
in=$1
out=$2
mkdir -p "$(dirname "$out")"
rows=$(($(wc -l < "$in") - 1))
if [ -n "${3:-}" ] && [ "$rows" -ne "$3" ]; then
  echo "expected $3 rows in $in, found $rows" >&2
  exit 1
fi
tail -n +2 "$in" | cut -d, -f1 | tr -d '"' | sort | uniq -c | awk '{ print $2 "," $1 }' > "$out"
regions=$(wc -l < "$out" | tr -d ' ')
echo "$rows sales in $regions regions:"
cat "$out"
# ml-ship reads a command's outputs from the JSON file named by $ML_SHIP_OUTPUTS
if [ -n "${ML_SHIP_OUTPUTS:-}" ]; then
  printf '{"regions": %s, "rows": %s}\n' "$regions" "$rows" > "$ML_SHIP_OUTPUTS"
fi
