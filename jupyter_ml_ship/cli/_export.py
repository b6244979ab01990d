"""``ml-ship pipeline export FILE|NAME[@N] --to airflow [-o DIR]``: a pipeline as an Airflow DAG.

Registered under ``ml-ship pipeline`` by ``_pipelines.register``. A FILE is shipped first (its
notebooks become job versions), then the version's DAG file is written; ``--images`` also builds
the step images on the Docker engine (``MlShip.docker_host``) for a Docker-host Airflow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import command, dump_json, err, service


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
    from ..backends._airflow.build import ensure_images, pipeline_dag_spec, write_dag
    from ..core.engine.orchestrated import pipeline_deployment
    from ._pipelines import _is_file
    from ._runs import split_ref

    svc = service()
    if _is_file(args.pipeline):
        shipped = svc.ship_pipeline(args.pipeline, message=args.message or None)
        name, version = shipped.version.pipeline, shipped.version.number
        state = "new version" if shipped.created else "unchanged, same version"
        err(f"shipped pipeline {name} v{version} ({state})")
    else:
        name, version = split_ref(args.pipeline)
    settings = svc.settings
    if args.operator:
        settings.airflow_operator = args.operator
    deployment = pipeline_deployment(svc, name, version)
    spec = pipeline_dag_spec(deployment, settings)
    if args.images:
        if spec.operator != "docker":
            err("--images: the kubernetes operator pulls images from the cluster's registry; "
                "nothing built")
        else:
            pairs = dict.fromkeys(f"{st.job}@{st.version}" for st in spec.steps)
            ensure_images(settings, settings.home_path,
                          [deployment["jobs"][k] for k in pairs], err)
    folder = Path(args.output or settings.airflow_dags_folder or ".")
    folder.mkdir(parents=True, exist_ok=True)
    path, changed = write_dag(folder, spec)
    if args.json:
        dump_json({"pipeline": name, "version": spec.version, "dag_id": spec.dag_id,
                   "path": str(path), "changed": changed, "operator": spec.operator,
                   "images": [st.image for st in spec.steps]})
        return 0
    kind = "DockerOperator" if spec.operator == "docker" else "KubernetesPodOperator"
    err(f"DAG {spec.dag_id}: {len(spec.steps)} {kind} task(s)"
        + ("" if changed else " (file unchanged)"))
    for st in spec.steps:
        err(f"  {st.task_id:<16} {st.image}")
    print(path)
    return 0
