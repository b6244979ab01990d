"""``ml-ship triggers``: the runs started by events (``core.triggers``): list them, revoke a
job's (or with ``--pipeline`` a pipeline's) webhook, or make it a new secret (shown once)."""

from __future__ import annotations

import argparse

from ._common import command, dump_json, err, service, table, when


def register(sub: argparse._SubParsersAction) -> None:
    p = command(
        sub, "triggers", "runs started by events: webhooks, new files, upstream successes; "
        "'triggers revoke JOB' / 'triggers token JOB' for a webhook", cmd_triggers,
        description="A job's metadata.ml_ship.triggers: {\"webhook\": true} (a secret URL, "
                    "POST /ml-ship/api/triggers/TOKEN with the run's parameters as JSON), "
                    "{\"files\": \"data/incoming/*.csv\"} (one run per new file, its path in the "
                    "parameter trigger_file), {\"after\": [\"prepare-data\"]} (a run each time "
                    "that job or pipeline succeeds); each may name an \"environment\". A pipeline "
                    "file's triggers: takes the same (files: the path goes in the pipeline's "
                    "parameter trigger_file).")
    p.add_argument("action", nargs="?", default="list", choices=["list", "revoke", "token"],
                   help="list (default); revoke JOB: its webhook URL stops working; token JOB: "
                        "a new webhook secret (the old one stops working), shown once")
    p.add_argument("job", nargs="?", metavar="NAME",
                   help="the job or pipeline (list: only its triggers)")
    p.add_argument("--pipeline", action="store_true",
                   help="NAME is a pipeline (revoke, token; list: only pipelines' triggers)")


def cmd_triggers(args: argparse.Namespace) -> int:
    svc = service()
    target = "pipeline" if args.pipeline else "job"
    if args.action in ("revoke", "token"):
        if not args.job:
            err(f"ml-ship triggers {args.action}: name the {target}")
            return 2
        what = f"pipeline {args.job}" if args.pipeline else args.job
        again = f"ml-ship triggers token {args.job}" + (" --pipeline" if args.pipeline else "")
        if args.action == "revoke":
            info = svc.revoke_trigger(args.job, target=target)
            if args.json:
                dump_json(info)
            else:
                err(f"{what}: webhook revoked (its URL is refused from now on; "
                    f"'{again}' makes a new one)")
            return 0
        token = svc.trigger_token(args.job, target=target)
        if args.json:
            dump_json(token)
        else:
            err(f"new webhook secret of {what} (shown once; the old one no longer works):")
            print(f"POST {token.path}")
        return 0
    found = svc.triggers(args.job, "pipeline" if args.pipeline else None)
    if args.json:
        dump_json({"triggers": found})
        return 0
    if not found:
        err("no job or pipeline has a trigger (metadata.ml_ship.triggers, a pipeline file's "
            "triggers:)")
        return 0
    table(["JOB", "KIND", "DETAIL", "ENVIRONMENT", "LAST FIRED", "LAST RUN"],
          [[t.job if t.target == "job" else f"{t.job} (pipeline)", t.kind, t.detail + (f" (in {t.root}, parameter {t.parameter})"
                                       if t.kind == "files" else ""),
            t.environment, when(t.last_fired) if t.last_fired else "-", t.last_run_id or "-"]
           for t in found])
    return 0
