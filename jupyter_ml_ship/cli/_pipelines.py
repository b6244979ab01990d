"""ml-ship pipeline run | status | cancel | list | runs | versions | rollback | ship | check"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import BadInput, NotFound
from ._common import (
    add_param_option,
    command,
    dump_json,
    err,
    is_pipeline_file,
    owner_text,
    params_of,
    seconds,
    service,
    table,
    when,
)

FOLLOW_INTERVAL = 0.1


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("pipeline", help="pipelines: notebooks chained into a DAG")
    psub = group.add_subparsers(dest="pipeline_command", metavar="COMMAND")
    psub.required = True

    p = command(psub, "run", "run a pipeline file, notebook folder, or shipped NAME[@N]", cmd_run)
    p.add_argument("pipeline", metavar="FILE|NAME[@N]")
    add_param_option(p)
    p.add_argument("--wait", action="store_true",
                   help="follow the steps; exit 1 unless the pipeline run succeeds")
    p.add_argument("--no-cache", action="store_true",
                   help="run every step, even those whose job version and parameters are unchanged")
    p.add_argument("--backend", help="backend of the steps that name none")
    p.add_argument("--parallelism", type=int, help="steps at once (default: MlShip.parallelism "
                   "or the number of cores)")
    p.add_argument("-m", "--message", default="", help="with a FILE: message of a new version")
    p.add_argument("--env", metavar="ENV", help="with a NAME: run the version of this "
                   "environment (default: production, the current version)")

    p = command(psub, "status", "a pipeline run and its steps", cmd_status)
    p.add_argument("id")

    p = command(psub, "cancel", "stop a pipeline run and its running steps", cmd_cancel)
    p.add_argument("id")

    command(psub, "list", "list pipelines", cmd_list)

    p = command(psub, "runs", "list pipeline runs, newest first", cmd_runs)
    p.add_argument("--pipeline")
    p.add_argument("--status")
    p.add_argument("--limit", type=int, default=50)

    p = command(psub, "versions", "a pipeline's versions, newest first", cmd_versions)
    p.add_argument("name")

    p = command(psub, "rollback",
                "make an earlier version of a pipeline the current one",
                cmd_rollback)
    p.add_argument("name")
    p.add_argument("version", type=int)

    p = command(psub, "promote", "point an environment (default production: the current "
                "version) of a pipeline at a version (audited)", cmd_promote)
    p.add_argument("name")
    p.add_argument("version", type=int)
    p.add_argument("--to", default="production", metavar="ENV",
                   help="the environment (MlShip.environments; default production)")

    p = command(psub, "ship", "ship a pipeline file (and its notebooks) without running", cmd_ship)
    p.add_argument("file")
    p.add_argument("-m", "--message", default="")

    p = command(psub, "check",
                "validate a pipeline file and show its steps (ships nothing)",
                cmd_check)
    p.add_argument("file")

    from ._export import register_export

    register_export(psub)


def cmd_run(args: argparse.Namespace) -> int:
    from ._runs import split_ref

    svc = service()
    if is_pipeline_file(args.pipeline):
        shipped = svc.ship_pipeline(args.pipeline, message=args.message or None)
        v = shipped.version
        state = "new version" if shipped.created else "unchanged, same version"
        err(f"shipped pipeline {v.pipeline} v{v.number} ({state}, {len(v.steps)} steps)")
        show_trigger_token(shipped)
        name, version = v.pipeline, v.number
    else:
        name, version = split_ref(args.pipeline)
    if getattr(args, "env", None):
        if version is not None:
            raise BadInput(f"--env {args.env} and {name}@{version}: name the version or the "
                           "environment, not both")
        version = svc.pipeline(name).environments.get(args.env)
        if version is None:
            raise NotFound(f"pipeline {name!r} has no version in {args.env} (`ml-ship pipeline "
                           f"promote {name} N --to {args.env}` puts one there)")
    info = svc.run_pipeline(name, version, params_of(args), args.backend,
                            use_cache=not args.no_cache, parallelism=args.parallelism)
    err(f"pipeline run {info.id} of {info.pipeline} v{info.version} started "
        f"({len(info.steps)} steps, parallelism {info.parallelism})")
    if args.wait:
        return follow(svc, info.id, as_json=args.json)
    if args.json:
        dump_json(info)
    else:
        print(info.id)
    return 0


def follow(svc: Any, run_id: str, as_json: bool = False) -> int:
    """Show step status changes (on a terminal) until the pipeline run ends; 0 if it succeeded."""
    live = sys.stderr.isatty()
    seen: dict[str, str] = {}

    def show(info: Any) -> None:
        width = max((len(st.id) for st in info.steps), default=0)
        for st in info.steps:
            if live and seen.get(st.id) != st.status:
                err(f"  {st.id:<{width}}  {_step_state(st)}")
            seen[st.id] = st.status or ""

    info = svc.wait_pipeline_run(run_id, interval=FOLLOW_INTERVAL, on_update=show)
    if as_json:
        dump_json(info)
    else:
        _steps_table(info)
    tail = f": {info.error.message}" if info.error else ""
    err(f"pipeline run {info.id} {info.status} in {seconds(info.duration)}{tail}")
    return 0 if info.status == "succeeded" else 1


def _step_state(st: Any) -> str:
    bits = [st.status or "-"]
    if st.cached:
        bits.append("(cached)")
    if st.run_id:
        bits.append(f"run {st.run_id}")
    if st.status == "succeeded" and st.duration is not None and not st.cached:
        bits.append(f"in {seconds(st.duration)}")
    if st.error and st.status != "succeeded":
        bits.append(f"- {st.error.message}")
    return " ".join(bits)


def _outputs_text(outputs: dict[str, Any], width: int = 60) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in outputs.items()) or "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def _steps_table(info: Any) -> None:
    table(["STEP", "JOB", "STATUS", "RUN", "DURATION", "OUTPUTS"], [
        [st.id, f"{st.job} v{st.version}", st.status + (" (cached)" if st.cached else ""),
         st.run_id or "-", seconds(st.duration), _outputs_text(st.outputs)]
        for st in info.steps
    ])


def cmd_status(args: argparse.Namespace) -> int:
    info = service().get_pipeline_run(args.id)
    if args.json:
        dump_json(info)
        return 0
    rows = [("pipeline run", info.id), ("pipeline", f"{info.pipeline} v{info.version}"),
            ("status", info.status), ("started", when(info.started_at)),
            ("ended", when(info.ended_at)), ("duration", seconds(info.duration)),
            ("parameters", info.parameters or "-")]
    if info.error:
        rows.append(("error", info.error.message))
    for k, v in rows:
        print(f"{k:>12}  {v}")
    print()
    _steps_table(info)
    for st in info.steps:
        if st.error and st.status not in ("succeeded",):
            print(f"{st.id}: {st.error.message}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    svc = service()
    before = svc.get_pipeline_run(args.id, reconcile=False)
    info = svc.cancel_pipeline_run(args.id)
    if args.json:
        dump_json(info)
    elif before.status == "cancelled":
        err(f"pipeline run {info.id} was already cancelled")
    else:
        stopped = [s.id for s in info.steps if s.status == "cancelled"]
        err(f"pipeline run {info.id} cancelled (steps stopped: {', '.join(stopped) or 'none'})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    pipes = service().pipelines()
    if args.json:
        dump_json({"pipelines": pipes})
        return 0
    table(["PIPELINE", "OWNER", "CURRENT", "LATEST", "LAST RUN", "STATUS", "UPDATED"], [
        [p.name, owner_text(p.owner, p.owners), f"v{p.current_version}", f"v{p.latest_version}",
         p.last_run.id if p.last_run else "-", p.last_run.status if p.last_run else "-",
         when(p.updated_at)] for p in pipes
    ])
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    runs, _ = service().pipeline_runs(pipeline=args.pipeline, status=args.status,
                                      limit=args.limit)
    if args.json:
        dump_json({"runs": runs})
        return 0
    table(["PIPELINE RUN", "PIPELINE", "VERSION", "STATUS", "STEPS OK", "STARTED", "DURATION"], [
        [r.id, r.pipeline, f"v{r.version}", r.status,
         f"{sum(s.status == 'succeeded' for s in r.steps)}/{len(r.steps)}",
         when(r.started_at), seconds(r.duration)] for r in runs
    ])
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    versions = service().pipeline_versions(args.name)
    if args.json:
        dump_json({"versions": versions})
        return 0
    table(["", "VERSION", "DIGEST", "CREATED", "AUTHOR", "ENVIRONMENTS", "STEPS", "MESSAGE"], [
        ["*" if v.is_current else "", f"v{v.number}", v.digest[:12], when(v.created_at),
         v.author, ",".join(v.environments) or "-",
         ", ".join(f"{s.id}={s.job}@{s.version}" for s in v.steps), v.message]
        for v in versions
    ])
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    pipe = service().promote_pipeline(args.name, args.version, args.to)
    if args.json:
        dump_json(pipe)
    else:
        err(f"pipeline {pipe.name}: v{args.version} is now in {args.to}"
            + (" (the current version)" if args.to == "production" else ""))
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    pipe = service().rollback_pipeline(args.name, args.version)
    if args.json:
        dump_json(pipe)
    else:
        err(f"pipeline {pipe.name}: current version is now v{pipe.current_version}")
    return 0


def cmd_ship(args: argparse.Namespace) -> int:
    result = service().ship_pipeline(args.file, message=args.message or None)
    if args.json:
        dump_json(result)
        return 0
    v = result.version
    state = "new version" if result.created else "unchanged, same version"
    err(f"shipped pipeline {v.pipeline} v{v.number} ({state}, digest {v.digest[:12]})")
    for st in v.steps:
        err(f"  {st.id:<16} {st.job} v{st.version}")
    show_trigger_token(result)
    return 0


def show_trigger_token(result: Any) -> None:
    """The pipeline's new webhook secret, shown this once (only its hash is kept)."""
    if result.trigger_token:
        err(f"webhook trigger of pipeline {result.version.pipeline} (shown once, keep it "
            f"secret): POST /ml-ship/api/triggers/{result.trigger_token}")


def cmd_check(args: argparse.Namespace) -> int:
    desc = service().describe_pipeline_file(args.file)
    if args.json:
        dump_json(desc)
        return 0
    err(f"{desc.path}: pipeline {desc.name} is valid ({len(desc.steps)} steps)")
    table(["STEP", "JOB", "DEPENDS ON", "OUTPUTS"], [
        [s.id, s.job + (f"@{s.version}" if s.version else ""), ", ".join(s.depends_on) or "-",
         "(dynamic)" if s.declared_outputs is None else ", ".join(s.declared_outputs) or "-"]
        for s in desc.steps
    ])
    return 0
