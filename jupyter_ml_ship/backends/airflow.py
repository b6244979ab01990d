"""The ``airflow`` backend: runs on an existing Apache Airflow 3 through its REST API.

A shipped version becomes a generated DAG file (``_airflow/dag.py.j2``) dropped in the DAGs
folder; a run is a DAG run triggered with the run's parameters as its conf; the task's log,
state and XCom come back into the run directory (``_airflow/sync.py``), so the service
reconciles it like any other run. A pipeline run with this backend is one DAG run of the
pipeline's DAG: this backend deploys, triggers and observes it, and core applies what it sees
to the pipeline run and its steps (``core/engine/mirror.py``).

Credentials live in the settings only: never in a log, a run reference or the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable, ShipError
from ..store.files import atomic_write_json, read_json
from ._airflow.client import DAG_RUN_DONE, TI_DONE, AirflowClient
from ._airflow.dag import parse_dag_id
from ._airflow.sync import STATE, sync_lock, sync_task
from .base import (
    Backend,
    DiscoveredRun,
    ExportedPipeline,
    MirrorFiles,
    PipelineObservation,
    RunContext,
    TaskObservation,
)

#: how far back ``started_runs`` looks for DAG runs Airflow started itself
DISCOVER_LOOKBACK = timedelta(days=1)

#: how long an ``available()`` answer and a fetched list of task instances are reused
AVAILABLE_TTL = 5.0
TASKS_TTL = 1.0
#: environment of the detached follower of a single-job run: the settings as JSON
SETTINGS_ENV = "ML_SHIP_AIRFLOW_SETTINGS"


def dag_run_id(run_id: str) -> str:
    """Our id of the DAG run that executes one of our runs or pipeline runs."""
    return f"ml-ship-{run_id}"


class AirflowBackend(Backend):
    name = "airflow"
    secrets_from_service = False  # Airflow Variables of the same names, see _airflow/build.py
    schedules_itself = True  # a DAG's schedule: Airflow starts the DAG runs, discover() records
    orchestrates_pipelines = True  # a pipeline run is one DAG run (core/engine/mirror.py)
    mirror_files = MirrorFiles(state=STATE, lock="airflow.lock", log="airflow.log",
                               adopted="airflow-adopted", run_state=STATE)
    label = "Airflow"
    #: the key of a run's config that binds it to a task of a DAG run (``bind_task``)
    TASK_KEY = "airflow_task"

    def __init__(self, settings: Any):
        super().__init__(settings)
        self._client: AirflowClient | None = None
        self._available: tuple[float, tuple[bool, str]] | None = None
        self._tasks: dict[tuple[str, str], tuple[float, dict[str, dict[str, Any]]]] = {}

    # ---- connection -----------------------------------------------------------------------

    def client(self) -> AirflowClient:
        if self._client is None:
            s = self.settings
            bundle = Path(s.ca_bundle).expanduser() if s.ca_bundle else None
            verify: bool | str = str(bundle) if bundle and bundle.is_file() else True
            self._client = AirflowClient(s.airflow_url, s.airflow_username,
                                         s.airflow_password, verify=verify)
        return self._client

    def available(self) -> tuple[bool, str]:
        now = time.monotonic()
        if self._available and now - self._available[0] < AVAILABLE_TTL:
            return self._available[1]
        self._available = (now, self._check())
        return self._available[1]

    def _check(self) -> tuple[bool, str]:
        s = self.settings
        if not s.airflow_url:
            return False, "set ML_SHIP_AIRFLOW_URL (c.MlShip.airflow_url) to Airflow's API URL"
        if not s.airflow_dags_folder:
            return False, ("set ML_SHIP_AIRFLOW_DAGS_FOLDER (c.MlShip.airflow_dags_folder) to "
                           "the folder Airflow reads DAG files from")
        try:
            health = self.client().health()
            self.client().token()
        except ShipError as exc:
            return False, exc.message
        scheduler = (health.get("scheduler") or {}).get("status")
        if scheduler != "healthy":
            return True, f"Airflow at {s.airflow_url}: the scheduler is {scheduler or 'absent'}"
        return True, ""

    def task_instances(self, dag_id: str, run_id: str,
                       fresh: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The DAG run's task instances (reused for ``TASKS_TTL``; ``fresh`` primes the cache)."""
        key, now = (dag_id, run_id), time.monotonic()
        if fresh is not None:
            self._tasks[key] = (now, fresh)
        cached = self._tasks.get(key)
        if cached is None or now - cached[0] > TASKS_TTL:
            cached = (now, self.client().task_instances(dag_id, run_id))
            self._tasks[key] = cached
        return cached[1]

    # ---- deploy ---------------------------------------------------------------------------

    def deploy(self, spec: Any, versions: list[dict[str, Any]],
               log: Any = print) -> tuple[Path, bool]:
        """Make the step images (docker operator) and write the DAG file; ``(path, changed)``."""
        from ._airflow.build import ensure_images, write_dag

        if spec.operator == "docker":
            ensure_images(self.settings, self.settings.home_path, versions, log)
        return write_dag(self.settings.airflow_dags_folder, spec)

    def try_trigger(self, dag_id: str, file_name: str, run_id: str, conf: dict[str, Any],
                    deadline: float) -> dict[str, Any] | None:
        """Trigger the DAG run once Airflow has loaded the DAG (None: not yet).

        Raises ``BackendUnavailable`` when Airflow reports an import error for the file or did
        not load it before ``deadline`` (a ``time.time()``).
        """
        client = self.client()
        if client.dag(dag_id) is None:
            errors = client.import_errors(file_name)
            if errors:
                last = errors[-1].strip().splitlines()[-1:] or [""]
                raise BackendUnavailable(f"Airflow cannot import {file_name}: {last[0]}")
            if time.time() > deadline:
                raise BackendUnavailable(
                    f"Airflow did not load {file_name} from {self.settings.airflow_dags_folder} "
                    f"within {self.settings.airflow_deploy_timeout:g} s: is its dag-processor "
                    "running and reading that folder? (it lists it every [dag_processor] "
                    "refresh_interval)")
            return None
        client.unpause(dag_id)
        return client.trigger(dag_id, run_id, conf)

    def ui_url(self, dag_id: str, run_id: str, task_id: str | None = None) -> str:
        url = f"{self.settings.airflow_url.rstrip('/')}/dags/{dag_id}/runs/{run_id}"
        return url + (f"/tasks/{task_id}" if task_id else "")

    # ---- runs -----------------------------------------------------------------------------

    def bind_task(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return {self.TASK_KEY: {"dag_id": dag_id, "dag_run_id": run_id, "task_id": task_id}}

    def started_ref(self, run_dir: Path) -> dict[str, Any]:
        return dict((read_json(run_dir / STATE) or {}).get("ref") or {})

    def start(self, ctx: RunContext) -> dict[str, Any]:
        task = ctx.config.get(self.TASK_KEY)
        if task:  # a step of a pipeline's DAG run, started by Airflow itself
            ref = {"dag_id": task["dag_id"], "dag_run_id": task["dag_run_id"],
                   "task_id": task["task_id"]}
            atomic_write_json(ctx.run_dir / STATE, {"ref": ref, "phase": "triggered"})
            return {**ref, "status": "running"}
        return self._start_job(ctx)

    def _start_job(self, ctx: RunContext) -> dict[str, Any]:
        """A single job: its one-task DAG, triggered by a detached follower once loaded."""
        from ._airflow.build import job_dag_spec

        spec = job_dag_spec(ctx.job, ctx.version, ctx.digest, ctx.config, ctx.notebook_file,
                            self.settings)
        versions = [{"job": ctx.job, "number": ctx.version, "digest": ctx.digest,
                     "environment": ctx.environment,
                     "environment_source": ctx.environment_source,
                     "notebook_file": str(ctx.notebook_file), "config": ctx.config}]
        path, _ = self.deploy(spec, versions, ctx.log)
        ref: dict[str, Any] = {"dag_id": spec.dag_id, "dag_run_id": dag_run_id(ctx.run_id),
                               "task_id": ctx.job, "single": True}
        ctx.log(f"[ml-ship] DAG {spec.dag_id} is in {path}; triggering "
                f"{self.ui_url(spec.dag_id, ref['dag_run_id'])} once Airflow has loaded it")
        atomic_write_json(ctx.run_dir / STATE, {
            "ref": ref, "phase": "deploying", "file": path.name,
            "conf": ctx.spec.get("parameters") or {},
            "deadline": time.time() + self.settings.airflow_deploy_timeout})
        self._spawn_follower(ctx.run_dir)
        return {**ref, "status": "queued"}

    def _spawn_follower(self, run_dir: Path) -> None:
        env = dict(os.environ)
        env[SETTINGS_ENV] = json.dumps({n: getattr(self.settings, n)
                                        for n in self.settings.trait_names(config=True)})
        with open(run_dir / "follower.log", "ab") as log:
            subprocess.Popen(
                [sys.executable, "-m", "jupyter_ml_ship.backends.airflow_follow", str(run_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, cwd=str(run_dir))

    def collect(self, ref: dict[str, Any], run_dir: Path) -> None:
        if not ref or (run_dir / "result.json").exists():
            return
        state = read_json(run_dir / STATE) or {}
        if state.get("phase") == "deploying" and not self._trigger_job(ref, run_dir):
            return
        if state.get("phase") == "cancelled":
            return
        tis = self.task_instances(ref["dag_id"], ref["dag_run_id"])
        ti = tis.get(ref["task_id"])
        if ti is None and ref.get("single"):
            self._check_dag_run(ref, run_dir)
            return
        sync_task(self.client(), ref, run_dir, ti, self.settings.airflow_artifacts)

    def _trigger_job(self, ref: dict[str, Any], run_dir: Path) -> bool:
        """Deploying a single job: trigger its DAG run when Airflow has the DAG."""
        with sync_lock(run_dir) as mine:
            state = read_json(run_dir / STATE) or {}
            if not mine or state.get("phase") != "deploying":
                return mine and state.get("phase") == "triggered"
            try:
                run = self.try_trigger(ref["dag_id"], state["file"], ref["dag_run_id"],
                                       state.get("conf") or {}, state["deadline"])
            except BackendUnavailable as exc:
                if "cannot import" not in exc.message and "did not load" not in exc.message:
                    return False  # Airflow away for now: try again later
                _fail(run_dir, "DeployFailed", exc.message)
                return False
            if run is None:
                return False
            state["phase"] = "triggered"
            atomic_write_json(run_dir / STATE, state)
        _log(run_dir, f"[ml-ship] triggered DAG run {ref['dag_run_id']} of {ref['dag_id']}: "
                      f"{self.ui_url(ref['dag_id'], ref['dag_run_id'])}")
        return True

    def _check_dag_run(self, ref: dict[str, Any], run_dir: Path) -> None:
        """A single job whose task never appeared: the DAG run ended or vanished first."""
        run = self.client().dag_run(ref["dag_id"], ref["dag_run_id"])
        if run is None:
            _fail(run_dir, "DagRunVanished", f"DAG run {ref['dag_run_id']} of {ref['dag_id']} "
                  "is gone from Airflow (deleted there?)")
        elif run.get("state") in DAG_RUN_DONE:
            _fail(run_dir, "DagRunEnded", f"DAG run {ref['dag_run_id']} ended "
                  f"({run.get('state')}) before its task started")

    def is_alive(self, ref: dict[str, Any], run_dir: Path) -> bool:
        if (run_dir / "result.json").exists():
            return False
        state = read_json(run_dir / STATE) or {}
        return state.get("phase") != "cancelled" and state.get("ti_state") not in TI_DONE

    def cancel(self, ref: dict[str, Any], run_dir: Path) -> None:
        """A single job: its DAG run is marked failed; a pipeline step: its task is."""
        if not ref or (run_dir / "result.json").exists():
            return
        with sync_lock(run_dir):
            state = read_json(run_dir / STATE) or {}
            phase = state.get("phase")
            state["phase"] = "cancelled"
            atomic_write_json(run_dir / STATE, state)
        if phase == "deploying":
            return  # never triggered: nothing runs in Airflow
        client = self.client()
        if ref.get("single"):
            client.fail_dag_run(ref["dag_id"], ref["dag_run_id"])
        else:
            client.fail_task(ref["dag_id"], ref["dag_run_id"], ref["task_id"])
        _log(run_dir, "[ml-ship] cancelled: Airflow was told to stop "
                      f"{ref['task_id'] if not ref.get('single') else ref['dag_run_id']}")

    # ---- pipelines: Airflow schedules the whole DAG run -------------------------------------

    # ---- pipelines: Airflow schedules them; core applies what is seen here --------------

    def deploy_pipeline(self, deployment: dict[str, Any], run_id: str,
                        log: Any = print) -> dict[str, Any]:
        """The pipeline version's DAG (and its step images) in place for pipeline run
        ``run_id``: ``{dag_id, dag_run_id, file, path, changed}``."""
        from ._airflow.build import pipeline_dag_spec

        spec = pipeline_dag_spec(deployment, self.settings)
        pairs = dict.fromkeys(f"{st.job}@{st.version}" for st in spec.steps)
        path, changed = self.deploy(spec, [deployment["jobs"][k] for k in pairs], log)
        return {"dag_id": spec.dag_id, "dag_run_id": dag_run_id(run_id), "file": path.name,
                "path": str(path), "changed": changed,
                "deadline": time.time() + self.settings.airflow_deploy_timeout}

    def export_pipeline(self, deployment: dict[str, Any], folder: Path | None = None, *,
                        operator: str | None = None, images: bool = False,
                        log: Any = print) -> ExportedPipeline:
        """The pipeline version's DAG file in ``folder`` (default: ``airflow_dags_folder``,
        else the current folder); ``images``: also build the step images on the Docker engine
        (``docker_host``) for a Docker-host Airflow (the docker operator only)."""
        from ._airflow.build import ensure_images, pipeline_dag_spec, write_dag

        settings = self.settings
        if operator:
            settings.airflow_operator = operator
        spec = pipeline_dag_spec(deployment, settings)
        if images:
            if spec.operator != "docker":
                log("--images: the kubernetes operator pulls images from the cluster's "
                    "registry; nothing built")
            else:
                pairs = dict.fromkeys(f"{st.job}@{st.version}" for st in spec.steps)
                ensure_images(settings, settings.home_path,
                              [deployment["jobs"][k] for k in pairs], log)
        folder = Path(folder or settings.airflow_dags_folder or ".")
        folder.mkdir(parents=True, exist_ok=True)
        path, changed = write_dag(folder, spec)
        return ExportedPipeline(
            path=path, changed=changed, ident=spec.dag_id, version=spec.version,
            operator=spec.operator,
            kind="DockerOperator" if spec.operator == "docker" else "KubernetesPodOperator",
            steps=[(st.task_id, st.image) for st in spec.steps])

    def observe_pipeline_run(self, dag_id: str, run_id: str) -> PipelineObservation | None:
        client = self.client()
        dag_run = client.dag_run(dag_id, run_id)
        if dag_run is None:
            return None
        tis = self.task_instances(dag_id, run_id, fresh=client.task_instances(dag_id, run_id))
        state = dag_run.get("state")
        return PipelineObservation(
            state=state, done=state in DAG_RUN_DONE,
            tasks={sid: TaskObservation(state=ti.get("state"), start_date=ti.get("start_date"))
                   for sid, ti in tis.items()})

    def stop_pipeline_run(self, dag_id: str, run_id: str) -> None:
        self.client().fail_dag_run(dag_id, run_id)

    def step_files_dir(self, dag_id: str, run_id: str, step: str) -> Path | None:
        shared = self.settings.airflow_artifacts
        return Path(shared) / dag_id / run_id / step / "project" if shared else None

    def started_runs(self) -> list[DiscoveredRun]:
        """DAG runs of our DAGs of the last day that Airflow started itself (its schedule, its
        UI, its API; one request), not the ones we triggered."""
        if not self.settings.airflow_url:
            return []
        since = datetime.now(timezone.utc) - DISCOVER_LOOKBACK
        found = []
        for dag_run in self.client().dag_runs("ml-ship.", since):
            dag_id, dr_id = str(dag_run.get("dag_id")), str(dag_run.get("dag_run_id"))
            parsed = parse_dag_id(dag_id)
            if parsed is None or dr_id.startswith(dag_run_id("")):
                continue  # not one of our DAGs, or a DAG run we triggered
            when = dag_run.get("run_after") or dag_run.get("start_date")
            conf = dag_run.get("conf")
            found.append(DiscoveredRun(
                kind=parsed[0], name=parsed[1], version=parsed[2], dag_id=dag_id,
                dag_run_id=dr_id, conf=conf if isinstance(conf, dict) else {},
                started_at=datetime.fromisoformat(str(when).replace("Z", "+00:00"))
                if when else None, how=str(dag_run.get("run_type") or ""),
                url=self.ui_url(dag_id, dr_id)))
        return found


def _log(run_dir: Path, line: str) -> None:
    with open(run_dir / "log.txt", "a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")


def _fail(run_dir: Path, ename: str, message: str) -> None:
    _log(run_dir, f"[ml-ship] run failed: {message}")
    atomic_write_json(run_dir / "result.json", {
        "status": "failed", "outputs": {}, "attempts": 0,
        "error": {"ename": ename, "evalue": message, "message": message}})
