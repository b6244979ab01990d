"""ml-ship warm [status|start|stop]: the local backend's warm runner of this home."""

from __future__ import annotations

import argparse

from ._common import command, dump_json, err, service


def register(sub: argparse._SubParsersAction) -> None:
    p = command(
        sub, "warm", "show, start or stop the warm runner local runs are forked from", cmd_warm,
        description="The warm runner keeps papermill, ipykernel and IPython imported so local "
                    "runs (and their kernels) start in milliseconds. JupyterLab and pipeline "
                    "runs start it; it exits after MlShip.warm_runner_idle seconds unused.")
    p.add_argument("action", nargs="?", default="status", choices=["status", "start", "stop"])


def cmd_warm(args: argparse.Namespace) -> int:
    from ..errors import BadInput
    from ..runner import _warm

    svc = service()
    settings = svc.settings
    if args.action == "start":
        if not settings.warm_runner:
            raise BadInput("the warm runner is turned off (MlShip.warm_runner / "
                           "ML_SHIP_WARM_RUNNER=0)")
        svc.prewarm()
        if _warm.wait_ready(settings, 60) is None:
            raise BadInput("the warm runner did not come up within 60 s: see "
                           f"{settings.home_path / 'warm' / 'warm-runner.log'}")
    elif args.action == "stop":
        stopped = svc.stop_warm_runner()
        if args.json:
            dump_json({"stopped": stopped})
        else:
            err("stopped the warm runner" if stopped else "no warm runner was running")
        return 0
    pid = _warm.ping(settings)
    state = {"enabled": bool(settings.warm_runner), "running": pid is not None, "pid": pid,
             "socket": str(_warm.socket_path(settings)), "idle_timeout": settings.warm_runner_idle}
    if args.json:
        dump_json(state)
    elif pid is None:
        print("warm runner: not running" + ("" if settings.warm_runner else " (turned off)"))
    else:
        print(f"warm runner: pid {pid}, socket {state['socket']}, exits after "
              f"{settings.warm_runner_idle:g} s unused")
    return 0
