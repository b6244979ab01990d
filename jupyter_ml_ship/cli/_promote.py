"""ml-ship promote JOB N [--to ENV] [--force] [--wait]: point an environment at a version (its
promotion gate decides when the job has one; production = the current version)."""

from __future__ import annotations

import argparse

from ._common import command, dump_json, err, service


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "promote", "point an environment (default production: the current "
                "version) at a version, through the job's promotion gate (owners and admins, "
                "or MlShip.promote_groups; audited)", cmd_promote)
    p.add_argument("job")
    p.add_argument("version", type=int)
    p.add_argument("--to", default="production", metavar="ENV",
                   help="the environment (MlShip.environments; default production)")
    p.add_argument("--force", action="store_true",
                   help="promote a rejected, still validating or rolled back version anyway, "
                        "and without running its gate")
    p.add_argument("--wait", action="store_true",
                   help="when the gate runs: wait for its verdict (exit 1 when rejected)")


def cmd_promote(args: argparse.Namespace) -> int:
    svc = service()
    v = svc.promote(args.job, args.version, force=args.force, to=args.to)
    env = args.to
    if v.promotion == "validating" and v.validation_run_id:
        err(f"{v.job}: v{v.number} goes to {env} once its promotion gate passes: validation "
            f"run {v.validation_run_id} started")
        if args.wait:
            svc.wait(v.validation_run_id)
            v = svc.version(args.job, args.version)
            if env not in v.environments:
                err(f"{v.job}: v{v.number} was {v.promotion or 'not promoted'}: "
                    f"{v.promotion_reason}")
                if args.json:
                    dump_json(v)
                return 1
            err(f"{v.job}: v{v.number} is now in {env} ({v.promotion_reason})")
    elif env == "production":
        err(f"{v.job}: v{v.number} is now the current version (production) "
            f"({v.promotion_reason or 'promoted by hand'})")
    else:
        err(f"{v.job}: v{v.number} is now in {env}")
    if args.json:
        dump_json(v)
    return 0
