"""ml-ship promote JOB N [--force]: make a candidate (or rejected) version current by hand."""

from __future__ import annotations

import argparse

from ._common import command, dump_json, err, service

#: environments come with a later issue; until then the one there is
ENVIRONMENTS = ("production",)


def register(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "promote", "make a version current by hand (a candidate of gated "
                "promotion; owners and admins, audited)", cmd_promote)
    p.add_argument("job")
    p.add_argument("version", type=int)
    p.add_argument("--to", default="production", metavar="ENV",
                   help="the environment (only production for now)")
    p.add_argument("--force", action="store_true",
                   help="promote a rejected, still validating or rolled back version anyway")


def cmd_promote(args: argparse.Namespace) -> int:
    from ..errors import BadInput

    if args.to not in ENVIRONMENTS:
        raise BadInput(f"--to {args.to}: only production exists for now (environments come "
                       "later)")
    v = service().promote(args.job, args.version, force=args.force)
    if args.json:
        dump_json(v)
    else:
        err(f"{v.job}: v{v.number} is now the current version ({v.promotion_reason})")
    return 0
