"""Reads the upstream step's file; exits non-zero (the step fails) when rows are missing."""
import argparse
import json
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("--expect", type=int)
args = ap.parse_args()
rows = [line.split(",") for line in open(args.path).read().splitlines()[1:]]
if len(rows) != args.expect:
    sys.exit(f"expected {args.expect} rows, found {len(rows)}")
total = sum(int(square) for _, square in rows)
print(f"sum of squares: {total}")
with open(os.environ["ML_SHIP_OUTPUTS"], "w") as fh:
    json.dump({"sum_of_squares": total}, fh)
