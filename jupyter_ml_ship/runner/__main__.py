"""``python -m jupyter_ml_ship.runner RUN_DIR``"""

from __future__ import annotations

import sys

from ._execute import execute_run_dir


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m jupyter_ml_ship.runner RUN_DIR", file=sys.stderr)
        return 2
    result = execute_run_dir(args[0])
    return 0 if result["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
