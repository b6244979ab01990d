"""``python -m jupyter_ml_ship.runner RUN_DIR``

In a container that no service prepared (an Airflow task), ``--notebook`` and ``--parameters``
make the run directory first and ``--outputs-file`` writes the recorded outputs as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# jsonschema (through nbformat) imports rfc3987_syntax, which builds a Lark grammar at import:
# about a second of CPU per run for IRI format checks nbformat never asks for. Blocking it makes
# jsonschema skip that optional checker; nothing else changes.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from ._execute import execute_run_dir  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m jupyter_ml_ship.runner",
                                description="Execute one run directory with papermill.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--notebook", type=Path,
                   help="prepare RUN_DIR from this notebook (instead of a service)")
    p.add_argument("--parameters", default="{}", help="with --notebook: a JSON object")
    p.add_argument("--job", default="", help="with --notebook: the job name (for the log)")
    p.add_argument("--version", type=int, help="with --notebook: the job version (for the log)")
    p.add_argument("--run-id", help="with --notebook: the run's id (default: RUN_DIR's name)")
    p.add_argument("--outputs-file", type=Path,
                   help="write the recorded outputs there as one JSON object")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    run_dir = Path(args.run_dir)
    if args.notebook is not None:
        from ._prepare import prepare_run_dir

        try:
            parameters = json.loads(args.parameters)
            prepare_run_dir(run_dir, args.notebook, parameters, run_id=args.run_id,
                            job=args.job, version=args.version)
        except (OSError, ValueError) as exc:
            print(f"[ml-ship] cannot prepare {run_dir}: {exc}", file=sys.stderr, flush=True)
            return 2
    result = execute_run_dir(run_dir)
    if args.outputs_file is not None:
        from ._prepare import write_outputs

        write_outputs(args.outputs_file, result.get("outputs") or {})
    return 0 if result["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
