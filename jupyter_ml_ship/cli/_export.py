"""``ml-ship pipeline export FILE|NAME[@N] --to airflow [-o DIR]``: a pipeline as an Airflow DAG.

Registered under ``ml-ship pipeline`` by ``_pipelines.register``. A FILE is shipped first (its
notebooks become job versions), then the version's DAG file is written; ``--images`` also builds
the step images on the Docker engine (``MlShip.docker_host``) for a Docker-host Airflow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import command, dump_json, err, is_pipeline_file, service


def register_export(psub: argparse._SubParsersAction) -> None:
    p = command(
        psub, "export", "write the Airflow DAG file of a pipeline version (ships a FILE first)",
        cmd_export,
        description="Write a readable, generated Airflow DAG file for a pipeline version: one "
                    "task per step, running the step's job version image.")
    p.add_argument("pipeline", metavar="FILE|NAME[@N]")
    p.add_argument("--to", choices=["airflow"], required=True, help="the target (airflow)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="folder of the DAG file (default: MlShip.airflow_dags_folder, else the "
                        "current folder)")
    p.add_argument("--operator", choices=["docker", "kubernetes"],
                   help="DockerOperator or KubernetesPodOperator steps (default: "
                        "MlShip.airflow_operator)")
    p.add_argument("--images", action="store_true",
                   help="also build the step images on the Docker engine (docker operator)")
    p.add_argument("-m", "--message", default="", help="with a FILE: message of a new version")


def cmd_export(args: argparse.Namespace) -> int:
    from ..backends import load_backend
    from ._runs import split_ref

    svc = service()
    if is_pipeline_file(args.pipeline):
        shipped = svc.ship_pipeline(args.pipeline, message=args.message or None)
        name, version = shipped.version.pipeline, shipped.version.number
        state = "new version" if shipped.created else "unchanged, same version"
        err(f"shipped pipeline {name} v{version} ({state})")
    else:
        name, version = split_ref(args.pipeline)
    target = load_backend(args.to, svc.settings)  # enabled or not: only its files are written
    done = target.export_pipeline(svc.pipeline_deployment(name, version),
                                  Path(args.output) if args.output else None,
                                  operator=args.operator, images=args.images, log=err)
    if args.json:
        dump_json({"pipeline": name, "version": done.version, "dag_id": done.ident,
                   "path": str(done.path), "changed": done.changed, "operator": done.operator,
                   "images": [image for _, image in done.steps]})
        return 0
    err(f"DAG {done.ident}: {len(done.steps)} {done.kind} task(s)"
        + ("" if done.changed else " (file unchanged)"))
    for task_id, image in done.steps:
        err(f"  {task_id:<16} {image}")
    print(done.path)
    return 0
