"""From a shipped version to a deployed DAG: what the DAG says, the step images, the file.

The images are the docker backend's (``ml-ship/<job>:v<N>-<digest[:12]>``, built by its
``ensure_image`` on the engine of ``MlShip.docker_host``), so a step runs the same image on
Airflow as it would with ``--backend docker``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import BadInput
from ...runner._spark import merge_spark
from ...store.files import atomic_write_text
from .._docker.context import image_tag
from .dag import (
    ARTIFACTS_MOUNT,
    DagSpec,
    StepTask,
    dag_id,
    json_template,
    render_dag,
    resources_of,
)

if TYPE_CHECKING:
    from ...config import MlShip

#: a single job's task reads its parameters from the DAG run's conf as they are
CONF_PARAMETERS = "{{ dag_run.conf | tojson }}"


def _step(task_id: str, job: str, version: int, digest: str, config: dict[str, Any],
          **kw: Any) -> StepTask:
    retries = kw.pop("retries", None)
    timeout = kw.pop("timeout", None)
    return StepTask(
        task_id=task_id, job=job, version=version, image=image_tag(job, version, digest),
        retries=retries if retries is not None else config.get("retries"),
        timeout=timeout or config.get("timeout"), network=bool(config.get("network")),
        env={**{str(k): str(v) for k, v in (config.get("env") or {}).items()},
             # a secret is an Airflow Variable of the same name, read when the task runs: its
             # value is never in the DAG file, the image or our store
             **{name: "{{ var.value." + name + " }}" for name in config.get("secrets") or []},
             # their names (not values): the runner masks the values in the task's log
             **({"ML_SHIP_SECRET_NAMES": ",".join(config["secrets"])}
                if config.get("secrets") else {})},
        **resources_of(config), **kw,
    )


_FILE_REF = re.compile(r"steps\s*\.\s*(\w[\w-]*)\s*\.\s*files\s*\[\s*(['\"])(.*?)\2\s*\]")


def _shared_file_paths(value: Any) -> Any:
    """``steps.X.files['P']`` as the Jinja expression of where step X's run left P in the
    shared storage (its run directory there is ``RUN_DIR``: mount/dag id/run id/task id)."""
    if isinstance(value, dict):
        return {k: _shared_file_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shared_file_paths(v) for v in value]
    if not isinstance(value, str):
        return value
    return _FILE_REF.sub(
        lambda m: f'({json.dumps(ARTIFACTS_MOUNT + "/")} ~ dag.dag_id ~ "/" ~ run_id ~ '
                  f'{json.dumps("/" + m[1] + "/project/" + m[3])})', value)


def _no_spark(spark: Any, where: str) -> None:
    """A PySpark job's task would start with no ``spark`` session (the task's runner is not
    handed one yet): refused before a DAG is written, rather than a NameError in the task."""
    if spark not in (None, False):
        raise BadInput(f"{where}: a PySpark job (spark:) does not run on the airflow backend "
                       "yet; run it on the local or docker backend, or drop its spark: setting")


def pipeline_dag_spec(deployment: dict[str, Any], settings: MlShip) -> DagSpec:
    """The DAG of a pipeline version, from what core read of it (``pipeline_deployment``)."""
    from ...pipelines.templates import find_refs

    name, number, spec = deployment["name"], deployment["version"], deployment["spec"]
    digest, created = deployment["digest"], deployment["created_at"]
    author, source = deployment["author"], deployment["source"]
    steps = []
    for sid, st in spec["steps"].items():
        info = deployment["jobs"][f"{st['job']}@{st['version']}"]
        _no_spark(merge_spark(info["config"].get("spark"), st.get("spark")),
                  f"pipeline {name}: steps.{sid} (job {st['job']})")
        params = st.get("parameters") or {}
        refs = find_refs(params, f"steps.{sid}.parameters")
        if any(r.kind == "files" for _, r in refs):
            if not settings.airflow_artifacts:
                raise BadInput(f"pipeline {name}: steps.{sid}.parameters read files of upstream "
                               "steps: on Airflow that needs storage shared by the steps "
                               "(ML_SHIP_AIRFLOW_ARTIFACTS, c.MlShip.airflow_artifacts)")
            params = _shared_file_paths(params)
        steps.append(_step(
            sid, st["job"], st["version"], info["digest"], info["config"],
            parameters={k: json_template(val) for k, val in params.items()},
            depends_on=list(st.get("depends_on") or []), notebook=st.get("notebook"),
            upstream_refs=list(dict.fromkeys(r.name for _, r in refs if r.kind == "steps")),
            retries=st.get("retries"), timeout=st.get("timeout"),
        ))
    return DagSpec(
        dag_id=dag_id("pipeline", name, number), kind="pipeline", name=name, version=number,
        digest=digest, created_at=created, author=author, source=source,
        params=dict(spec.get("parameters") or {}), schedule=spec.get("schedule"), steps=steps,
        operator=settings.airflow_operator, artifacts=settings.airflow_artifacts,
        namespace=settings.airflow_namespace,
    )


def job_dag_spec(job: str, version: int, digest: str, config: dict[str, Any],
                 notebook_file: Path, settings: MlShip) -> DagSpec:
    """The one-task DAG of a job version; the DAG run's conf is the run's parameters."""
    _no_spark(config.get("spark"), f"job {job} v{version}")
    shipped = datetime.fromtimestamp(Path(notebook_file).stat().st_mtime, timezone.utc)
    step = _step(job, job, version, digest, config, raw_parameters=CONF_PARAMETERS)
    return DagSpec(
        dag_id=dag_id("job", job, version), kind="job", name=job, version=version,
        digest=digest, created_at=shipped, params={}, schedule=config.get("schedule"),
        steps=[step], operator=settings.airflow_operator, artifacts=settings.airflow_artifacts,
        namespace=settings.airflow_namespace,
    )


def ensure_images(settings: MlShip, home: Path, versions: list[dict[str, Any]],
                  log: Callable[[str], None]) -> None:
    """Build the image of each job version that lacks one (``versions``: the Version fields
    ``job``, ``number``, ``digest``, ``environment``, ``environment_source``,
    ``notebook_file``, ``config``)."""
    from .._docker.build import BuildFailed, ensure_image
    from ..docker import DockerBackend

    docker = DockerBackend(settings)
    client = docker.client()
    for v in versions:
        project = v.get("project")
        plan = docker.plan(v["job"], v["number"], v["digest"], v["environment"],
                           v["environment_source"], Path(v["notebook_file"]), v["config"],
                           (project["files"], home / "blobs", project["notebook_dir"])
                           if project else None)
        try:
            ensure_image(client, plan, log, home / "docker" / "locks")
        except BuildFailed as exc:
            raise BadInput(f"job {v['job']} v{v['number']}: {exc}") from None


def write_dag(folder: str | Path, spec: DagSpec) -> tuple[Path, bool]:
    """Write the DAG file atomically (Airflow never reads half a file); ``(path, changed)``."""
    if not folder:
        raise BadInput("the airflow backend has no DAGs folder: set ML_SHIP_AIRFLOW_DAGS_FOLDER "
                       "(c.MlShip.airflow_dags_folder) to the folder Airflow reads DAGs from")
    path = Path(folder).expanduser() / spec.file_name
    text = render_dag(spec)
    try:
        if path.read_text(encoding="utf-8") == text:
            return path, False
    except FileNotFoundError:
        pass
    atomic_write_text(path, text)
    return path, True
