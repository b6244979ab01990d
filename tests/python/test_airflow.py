"""The airflow backend against a real Apache Airflow 3 (started once for this module).

``airflow_harness.AirflowHarness`` runs ``api-server``, ``scheduler``, ``dag-processor`` and an
EdgeExecutor worker on 127.0.0.1 from the venv of ``scripts/airflow-up.sh``; the steps run as
DockerOperator containers on the local engine. Skipped without Airflow or Docker on a laptop,
a failure when ``ML_SHIP_REQUIRE`` names them (CI).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_ml_ship.backends.docker import DockerBackend
from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService

from . import waits
from .airflow_harness import AirflowHarness, airflow_installed, ensure_airflow_venv
from .conftest import EXAMPLES, make_notebook, require, required
from .test_docker import BASE_IMAGE, host_ca_bundle
from .test_server import Api, api, js  # noqa: F401  (api is a fixture)

#: a pipeline run on the deployment, from trigger to its end (the first task of a fresh
#: worker takes ~25 s on this machine to import Airflow's task runtime)
RUN_TIMEOUT = 300


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowHarness]:
    ok, why = airflow_installed()
    if not ok and "airflow" in required():
        ok, why = ensure_airflow_venv()
    require("airflow", ok, why)
    root = tmp_path_factory.mktemp("airflow")
    ok, why = DockerBackend(MlShip(home=str(root / "probe"),
                                   docker_base_image=BASE_IMAGE)).available()
    require("docker", ok, why)
    harness = AirflowHarness(root)
    (root / "artifacts").mkdir()
    harness.launch()  # comes up while the tests that need no live Airflow run
    yield harness
    harness.stop()


@pytest.fixture
def live(deployment: AirflowHarness) -> AirflowHarness:
    """The deployment with every process up (api-server, scheduler, dag-processor, worker)."""
    try:
        return deployment.ready()
    except Exception as exc:  # the processes' logs say why
        pytest.fail(f"Airflow did not start: {exc}")


def settings_for(deployment: AirflowHarness, home: Path, **kw: Any) -> MlShip:
    values: dict[str, Any] = dict(
        home=str(home), freeze_environment=False, docker_base_image=BASE_IMAGE,
        ca_bundle=host_ca_bundle(), airflow_url=deployment.url,
        airflow_username=deployment.username, airflow_password=deployment.password,
        airflow_dags_folder=str(deployment.dags_folder),
        airflow_artifacts=str(deployment.root / "artifacts"), airflow_deploy_timeout=120.0)
    values.update(kw)
    return MlShip(**values)


def env_for(deployment: AirflowHarness, home: Path) -> dict[str, str]:
    """``ml-ship`` as a user would run it against this deployment."""
    import os

    env = dict(os.environ)
    env.update(
        ML_SHIP_HOME=str(home), ML_SHIP_AIRFLOW_URL=deployment.url,
        ML_SHIP_AIRFLOW_USERNAME=deployment.username,
        ML_SHIP_AIRFLOW_PASSWORD=deployment.password,
        ML_SHIP_AIRFLOW_DAGS_FOLDER=str(deployment.dags_folder),
        ML_SHIP_AIRFLOW_ARTIFACTS=str(deployment.root / "artifacts"),
        ML_SHIP_DOCKER_BASE_IMAGE=BASE_IMAGE, ML_SHIP_CA_BUNDLE=host_ca_bundle(),
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    env.pop("ML_SHIP_DB_URL", None)
    return env


@pytest.fixture
def asvc(live: AirflowHarness, tmp_path: Path) -> Iterator[ShipService]:
    service = ShipService(settings_for(live, tmp_path / "home"))
    yield service
    for run_id in service.active_pipeline_run_ids():
        try:
            service.cancel_pipeline_run(run_id)
        except Exception:
            pass
    for run_id in service.active_run_ids():  # also ends a single run's follower process
        try:
            service.cancel(run_id)
        except Exception:
            pass
    service.close()


def ml_ship(env: dict[str, str], *args: str, timeout: float = RUN_TIMEOUT
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jupyter_ml_ship", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def in_airflow(deployment: AirflowHarness, script: str, *args: str) -> Any:
    """Run a Python script in Airflow's venv (its own interpreter); its stdout's last line is
    JSON."""
    proc = subprocess.run([str(deployment.venv / "bin" / "python"), "-c", script, *args],
                          env=deployment.env(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_on_airflow(svc: ShipService, pipeline_file: Path) -> Any:
    """Ship a pipeline file and run it on Airflow to its end (driven here); its run's info."""
    version = svc.ship_pipeline(pipeline_file).version
    started = svc.run_pipeline(version.pipeline, backend="airflow", detach=False)
    return svc.drive_pipeline_run(started.id, timeout=RUN_TIMEOUT)


def log_of(svc: ShipService, run_id: str) -> str:
    return svc.read_log(run_id, 0, 1 << 24)[0].decode()


def until(check: Any, timeout: float, what: str, every: float = 0.5) -> Any:
    """``waits.until`` at Airflow's pace (its REST API and scheduler: every half second)."""
    return waits.until(check, timeout, what, every=every)


IN_AIRFLOW = """
import json, sys, yaml
from pathlib import Path
from airflow.dag_processing.dagbag import DagBag
from kubernetes.client import ApiClient

out = {}
for folder in sys.argv[1:]:
    bag = DagBag(folder)
    dags = {}
    for dag_id, dag in bag.dags.items():
        tasks = {}
        for t in dag.tasks:
            tasks[t.task_id] = {
                "upstream": sorted(t.upstream_task_ids), "retries": t.retries,
                "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                "image": t.image, "operator": type(t).__mro__[1].__name__,
                "network_mode": getattr(t, "network_mode", None),
            }
            if hasattr(t, "build_pod_request_obj"):  # the pod Airflow would ask the cluster for
                pod = t.build_pod_request_obj(dry_run=True)
                spec = ApiClient().sanitize_for_serialization(pod)
                tasks[t.task_id]["pod"] = spec
                Path(folder, t.task_id + ".pod.yaml").write_text(yaml.safe_dump(spec))
        params = {k: dag.params[k] for k in dag.params}
        dags[dag_id] = {"tasks": tasks, "params": params}
    out[folder] = {"errors": bag.import_errors, "dags": dags}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def exported(deployment: AirflowHarness, tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, Any]:
    """The example pipeline exported by the CLI (docker), a pipeline with resources exported
    for Kubernetes, and what Airflow's DagBag makes of both (one Airflow interpreter)."""
    root = tmp_path_factory.mktemp("export")
    env = env_for(deployment, root / "home")
    docker_dir, k8s_dir = root / "docker", root / "kubernetes"
    proc = ml_ship(env, "pipeline", "export", str(EXAMPLES / "churn.pipeline.yaml"),
                   "--to", "airflow", "-o", str(docker_dir))
    assert proc.returncode == 0, proc.stderr
    make_notebook(root / "nb" / "big.ipynb", "print(n)", params="n = 1", metadata={
        "ml_ship": {"resources": {"cpu": 0.5, "memory": "3g", "gpu": 1}, "timeout": 60}})
    make_notebook(root / "nb" / "small.ipynb", "print(m)", params="m = 0")
    (root / "nb" / "k.pipeline.yaml").write_text(
        "name: k\nparameters: {n: 3}\nsteps:\n  big: {notebook: big.ipynb, parameters: "
        "{n: '{{ params.n }}'}}\n  small: {notebook: small.ipynb, depends_on: [big]}\n")
    proc = ml_ship({**env, "ML_SHIP_AIRFLOW_ARTIFACTS": "shared-rwx"}, "pipeline", "export",
                   str(root / "nb" / "k.pipeline.yaml"), "--to", "airflow", "--operator",
                   "kubernetes", "-o", str(k8s_dir))
    assert proc.returncode == 0, proc.stderr
    bags = in_airflow(deployment, IN_AIRFLOW, str(docker_dir), str(k8s_dir))
    return {"docker": bags[str(docker_dir)], "kubernetes": bags[str(k8s_dir)],
            "pods": sorted(k8s_dir.glob("*.pod.yaml"))}


# ---- the DAG file -----------------------------------------------------------------------------


def test_exported_example_pipeline_imports_with_no_dagbag_errors(exported):
    bag = exported["docker"]
    assert bag["errors"] == {}
    dag = bag["dags"]["ml-ship.churn.v1"]
    assert dag["params"] == {"day": "2024-01-01", "rows": 500}
    tasks = dag["tasks"]
    assert {t: v["upstream"] for t, v in tasks.items()} == {
        "prepare": [], "train": ["prepare"], "evaluate": ["prepare", "train"]}
    assert tasks["train"]["retries"] == 1 and tasks["train"]["timeout"] == 600
    assert {v["operator"] for v in tasks.values()} == {"DockerOperator"}
    assert all(v["network_mode"] == "none" for v in tasks.values())
    assert tasks["prepare"]["image"].startswith("ml-ship/prepare:v1-")


def test_kubernetes_pod_specs_pass_kubernetes_validate_strict(deployment, exported, tmp_path):
    bag = exported["kubernetes"]
    assert bag["errors"] == {}
    tasks = bag["dags"]["ml-ship.k.v1"]["tasks"]
    assert {v["operator"] for v in tasks.values()} == {"KubernetesPodOperator"}
    big = tasks["big"]["pod"]["spec"]
    main = next(c for c in big["containers"] if c["name"] == "base")
    assert main["resources"]["limits"] == {"cpu": "0.5", "memory": "3Gi", "nvidia.com/gpu": "1"}
    assert main["command"] == ["python", "-m", "jupyter_ml_ship.runner"]
    assert "--outputs-file" in main["args"] and "/airflow/xcom/return.json" in main["args"]
    assert {v["name"] for v in big["volumes"]} == {"xcom", "artifacts"}  # the XCom sidecar
    assert tasks["big"]["timeout"] == 60
    validate = str(deployment.venv / "bin" / "kubernetes-validate")
    files = [str(p) for p in exported["pods"]]
    assert len(files) == 2
    check = subprocess.run([validate, "--strict", *files], capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("passed") == 2
    # the same check refuses a pod with a field Kubernetes does not know
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(files[0]).read_text().replace("restartPolicy:", "restartPolicyy:"))
    refused = subprocess.run([validate, "--strict", str(bad)], capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode != 0


def test_airflow_dags_test_runs_the_pipeline_in_containers_and_outputs_flow(
        deployment, tmp_path):
    """``airflow dags test``: the DAG in one process, its DockerOperator steps on the engine."""
    from jupyter_ml_ship.backends._airflow.build import (
        ensure_images,
        pipeline_dag_spec,
        write_dag,
    )
    from jupyter_ml_ship.core.engine.deployment import pipeline_deployment

    asvc = ShipService(settings_for(deployment, tmp_path / "home"))
    version = asvc.ship_pipeline(EXAMPLES / "churn.pipeline.yaml").version
    deployment = pipeline_deployment(asvc, "churn", version.number)
    spec = pipeline_dag_spec(deployment, asvc.settings)
    ensure_images(asvc.settings, asvc.home,
                  [deployment["jobs"][f"{st.job}@{st.version}"] for st in spec.steps], print)
    home = AirflowHarness(tmp_path / "airflow-test")  # its own metadata DB: no live processes
    home.prepare()
    write_dag(home.dags_folder, spec)
    asvc.close()
    proc = home.airflow("dags", "test", spec.dag_id, "-c", json.dumps({"rows": 300}),
                        timeout=RUN_TIMEOUT)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert "state=success" in out
    assert "prepared 300 customers for 2024-01-01" in out  # conf over the default (500)
    assert "training on 300 customers" in out  # prepare's CSV, found through its XCom path
    assert "on a table of 300 rows" in out  # an int through XCom into evaluate
    assert "model approved" in out  # accuracy arrived as a number (compared with the bar)


# ---- the full path: api-server, scheduler, dag-processor, edge worker ---------------------


def test_pipeline_runs_on_airflow_from_the_cli(live, tmp_path):
    deployment = live
    env = env_for(deployment, tmp_path / "home")
    proc = ml_ship(env, "pipeline", "run", str(EXAMPLES / "churn.pipeline.yaml"),
                   "--backend", "airflow", "-p", "rows", "300", "--wait", "--json")
    assert proc.returncode == 0, proc.stderr[-5000:]
    info = json.loads(proc.stdout)
    assert info["status"] == "succeeded", info
    steps = {s["id"]: s for s in info["steps"]}
    assert [steps[s]["status"] for s in ("prepare", "train", "evaluate")] == ["succeeded"] * 3
    assert steps["prepare"]["outputs"]["rows"] == 300  # an int, from the conf override
    assert isinstance(steps["train"]["outputs"]["accuracy"], float)
    assert steps["evaluate"]["outputs"] == {"passed": True}
    assert steps["evaluate"]["parameters"]["rows"] == 300
    # the same records as any backend: status, log, output notebook of a step's run
    status = ml_ship(env, "status", steps["train"]["run_id"], "--json", timeout=60)
    run = json.loads(status.stdout)
    assert run["backend"] == "airflow" and run["status"] == "succeeded"
    log = ml_ship(env, "logs", steps["train"]["run_id"], timeout=60).stdout
    assert "[ml-ship] Airflow task train of ml-ship.churn.v1, try 1" in log
    assert "training on 300 customers" in log and "[ml-ship] run succeeded" in log
    output = tmp_path / "train-output.ipynb"
    got = ml_ship(env, "output", steps["train"]["run_id"], "-o", str(output), timeout=60)
    assert got.returncode == 0, got.stderr
    assert "customers-2024-01-01.csv" in output.read_text()  # the injected data_path
    # and in Airflow: one DAG run, with our parameters as its conf
    dag_run = deployment.get(f"/api/v2/dags/ml-ship.churn.v1/dagRuns/ml-ship-{info['id']}")
    assert dag_run["state"] == "success" and dag_run["conf"] == {"day": "2024-01-01",
                                                                 "rows": 300}
    # the credentials are nowhere in the store or the home
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert deployment.password.encode() not in path.read_bytes(), path


def die_before_writing_the_claims(svc) -> None:
    """What a process that died right after recording DAG runs leaves: their claims empty,
    older than a live process would leave them."""
    from jupyter_ml_ship.backends.airflow import AirflowBackend
    from jupyter_ml_ship.core.engine import mirror_discovery as discover

    old = time.time() - discover.STALE_CLAIM - 5
    for claim in (svc.home / AirflowBackend.mirror_files.adopted).iterdir():
        claim.write_text("")
        os.utime(claim, (old, old))


def test_single_job_runs_on_airflow(live, asvc):
    deployment = live
    asvc.ship(EXAMPLES / "hello.ipynb", name="hello-airflow")
    run = asvc.run("hello-airflow", parameters={"name": "edge", "times": 2}, backend="airflow")
    assert run.status == "queued"  # Airflow has not loaded the new DAG yet
    done = asvc.wait(run.id, timeout=RUN_TIMEOUT, interval=0.5)
    log = log_of(asvc, run.id)
    assert done.status == "succeeded", log
    assert done.outputs == {"greeted": "edge"}
    assert log.count("hello, edge!") == 2
    assert "[ml-ship] triggered DAG run" in log
    runs = deployment.get("/api/v2/dags/ml-ship.job.hello-airflow.v1/dagRuns")["dag_runs"]
    assert [(r["dag_run_id"], r["conf"]) for r in runs] == [
        (f"ml-ship-{run.id}", {"name": "edge", "times": 2})]
    # a DAG run of the job started in Airflow (its schedule, its UI) becomes a run of the job
    client = asvc.backend("airflow").client()
    client.trigger("ml-ship.job.hello-airflow.v1", "manual__2026-11-26T00:00:00+00:00",
                   {"name": "cron", "times": 1})
    found = asvc.discover_runs()
    assert len(found) == 1 and asvc.discover_runs() == [], found
    die_before_writing_the_claims(asvc)
    assert asvc.discover_runs() == []  # the run recorded before is found, not recorded again
    assert len(asvc.runs("hello-airflow")[0]) == 2
    theirs = asvc.wait(found[0], timeout=RUN_TIMEOUT, interval=0.5)
    assert (theirs.job, theirs.version, theirs.backend) == ("hello-airflow", 1, "airflow")
    assert theirs.status == "succeeded", log_of(asvc, theirs.id)
    assert theirs.parameters == {"name": "cron", "times": 1}
    assert theirs.outputs == {"greeted": "cron"}
    assert log_of(asvc, theirs.id).count("hello, cron!") == 1


def test_the_agent_records_and_follows_a_dag_run_airflow_started(live, asvc, tmp_path):
    """With no Jupyter server: `ml-ship agent` finds the DAG run Airflow started itself (its
    schedule, its UI), records it once and follows it to its end."""
    import os
    import signal
    import subprocess

    asvc.ship(EXAMPLES / "hello.ipynb", name="hello-agent")
    first = asvc.wait(asvc.run("hello-agent", parameters={"name": "deploy"},
                               backend="airflow").id, timeout=RUN_TIMEOUT, interval=0.5)
    assert first.status == "succeeded", log_of(asvc, first.id)
    client = asvc.backend("airflow").client()
    client.trigger("ml-ship.job.hello-agent.v1", "manual__agent-test", {"name": "agent"})
    env = {**env_for(live, asvc.home), "ML_SHIP_DISCOVER_INTERVAL": "1"}
    log = tmp_path / "agent.log"
    agent = subprocess.Popen([sys.executable, "-m", "jupyter_ml_ship", "agent", "--interval",
                              "0.5"], env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        theirs = until(lambda: [r for r in asvc.runs("hello-agent")[0] if r.id != first.id],
                       RUN_TIMEOUT, "the agent to record the DAG run")
        done = until(lambda: (lambda r: r if r.status == "succeeded" else None)(
            asvc.get_run(theirs[0].id, reconcile=False)), RUN_TIMEOUT, "the run to finish")
        assert done.parameters == {"name": "agent"} and done.outputs == {"greeted": "agent"}
        assert len(asvc.runs("hello-agent")[0]) == 2  # recorded once
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        agent.wait(30)
    text = log.read_text()
    assert f"recorded {done.id}, started by a backend's own scheduler" in text, text


def test_dag_runs_airflow_starts_itself_are_recorded_and_followed(live, asvc):
    """A DAG run started in Airflow (its schedule, "Trigger" in its UI, its API) becomes a
    pipeline run of ours, followed step by step like the ones we trigger; once."""
    shipped = asvc.ship_pipeline(EXAMPLES / "churn.pipeline.yaml").version
    dag_id = f"ml-ship.churn.v{shipped.number}"
    ours = asvc.run_pipeline("churn", backend="airflow")  # deploys the DAG
    client = asvc.backend("airflow").client()
    until(lambda: client.dag_run(dag_id, f"ml-ship-{ours.id}"), RUN_TIMEOUT,
          "our DAG run to be triggered")
    # what a click on "Trigger" in Airflow's UI does: a DAG run with its own id and conf
    client.trigger(dag_id, "manual__from-the-airflow-ui", {"day": "2024-03-01", "rows": 200})
    found = asvc.discover_runs()
    assert len(found) == 1, found  # our own DAG run is not recorded twice
    assert asvc.discover_runs() == []  # and that one only once
    die_before_writing_the_claims(asvc)
    assert asvc.discover_runs() == []  # recorded before the "crash": found, not made again
    theirs = asvc.wait_pipeline_run(found[0], timeout=RUN_TIMEOUT, interval=0.5)
    assert asvc.wait_pipeline_run(ours.id, timeout=RUN_TIMEOUT,
                                  interval=0.5).status == "succeeded"
    assert theirs.status == "succeeded", theirs.error
    assert theirs.parameters == {"day": "2024-03-01", "rows": 200}
    steps = {st.id: st for st in theirs.steps}
    assert steps["prepare"].outputs["rows"] == 200
    train_log = log_of(asvc, steps["train"].run_id)
    assert "training on 200 customers" in train_log, train_log
    listed, _ = asvc.pipeline_runs("churn")
    assert {r.id for r in listed} == {ours.id, theirs.id}


def test_a_secret_comes_from_an_airflow_variable_and_is_stored_nowhere(live, asvc, tmp_path):
    deployment = live
    value = "af-s3cr3t-" + str(time.time_ns())
    set_var = deployment.airflow("variables", "set", "ML_SHIP_AF_SECRET", value)
    assert set_var.returncode == 0, set_var.stderr[-2000:]
    path = make_notebook(
        tmp_path / "work" / "secret.ipynb",
        "import hashlib, os\nfrom jupyter_ml_ship import record\n"
        "record('digest', hashlib.sha256(os.environ['ML_SHIP_AF_SECRET'].encode()).hexdigest())",
        metadata={"ml_ship": {"secrets": ["ML_SHIP_AF_SECRET"]}})
    asvc.ship(path, name="secret-airflow")
    # not set in the service's environment: on Airflow that is no error (Airflow holds it)
    run = asvc.run("secret-airflow", backend="airflow")
    done = asvc.wait(run.id, timeout=RUN_TIMEOUT, interval=0.5)
    assert done.status == "succeeded", log_of(asvc, run.id)
    import hashlib

    assert done.outputs == {"digest": hashlib.sha256(value.encode()).hexdigest()}
    dag = next(deployment.dags_folder.glob("ml_ship_job__secret_airflow__v1.py")).read_text()
    assert "var.value.ML_SHIP_AF_SECRET" in dag and value not in dag
    for path in asvc.settings.home_path.rglob("*"):
        if path.is_file():
            assert value.encode() not in path.read_bytes(), path


def small_pipeline(folder: Path, name: str, middle: str) -> Path:
    """first (records x) -> middle -> last."""
    make_notebook(folder / "first.ipynb", "from jupyter_ml_ship import record\nrecord('x', 2)",
                  metadata={"ml_ship": {"name": f"{name}-first"}})
    make_notebook(folder / "middle.ipynb", middle, params="x = 0",
                  metadata={"ml_ship": {"name": f"{name}-middle"}})
    make_notebook(folder / "last.ipynb", "print('last ran')",
                  metadata={"ml_ship": {"name": f"{name}-last"}})
    path = folder / f"{name}.pipeline.yaml"
    path.write_text(
        f"name: {name}\nsteps:\n  first: {{notebook: first.ipynb}}\n"
        "  middle: {notebook: middle.ipynb, depends_on: [first], "
        "parameters: {x: '{{ steps.first.outputs.x }}'}}\n"
        "  last: {notebook: last.ipynb, depends_on: [middle]}\n")
    return path


def test_failing_step_shows_its_cell_and_airflow_skips_the_rest(asvc, tmp_path):
    path = small_pipeline(tmp_path / "nb", "af-fail",
                          "print('got', x)\nif x == 2:\n    raise ValueError(f'x is {x}')")
    info = run_on_airflow(asvc, path)
    steps = {s.id: s for s in info.steps}
    assert info.status == "failed"
    assert [steps[s].status for s in ("first", "middle", "last")] == [
        "succeeded", "failed", "skipped"]
    error = steps["middle"].error
    assert error.ename == "ValueError" and error.evalue == "x is 2"
    assert "upstream step middle failed" in steps["last"].error.message
    # numbered as in the user's notebook (papermill's injected cell not counted), with the line
    assert (f"step middle failed: cell {error.cell_number}, line {error.line} raised "
            "ValueError") in info.error.message
    assert "got 2" in log_of(asvc, steps["middle"].run_id)
    # the cell index is the one in the output notebook (from the shared artifacts)
    output = json.loads(asvc.output_path(steps["middle"].run_id).read_text())
    assert "raise ValueError" in "".join(output["cells"][error.cell_index]["source"])


def test_a_project_and_a_file_between_steps_on_airflow(asvc, tmp_path):
    """The steps' images hold their project (a module beside the notebook); a file the first
    step writes reaches the second through the shared storage; both runs list their files."""
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "helper.py").write_text("def rows(n):\n    return [str(i * i) for i in range(n)]\n")
    make_notebook(folder / "write.ipynb", "import helper, os\nos.makedirs('out', exist_ok=True)\n"
                  "open('out/squares.csv', 'w').write('\\n'.join(helper.rows(4)))",
                  metadata={"ml_ship": {"name": "af-files-write"}})
    make_notebook(folder / "read.ipynb", "print('read', open(data).read().split())",
                  params="data = ''", metadata={"ml_ship": {"name": "af-files-read"}})
    path = folder / "af-files.pipeline.yaml"
    path.write_text("name: af-files\nsteps:\n  write: {notebook: write.ipynb}\n"
                    "  read: {notebook: read.ipynb, depends_on: [write], "
                    "parameters: {data: \"{{ steps.write.files['out/squares.csv'] }}\"}}\n")
    info = run_on_airflow(asvc, path)
    steps = {s.id: s for s in info.steps}
    assert info.status == "succeeded", [(s.id, s.status, s.error, s.run_id and log_of(
        asvc, s.run_id)[-1500:]) for s in info.steps]
    assert "read ['0', '1', '4', '9']" in log_of(asvc, steps["read"].run_id)
    written = asvc.run_files(steps["write"].run_id).files
    assert [f.path for f in written] == ["out/squares.csv"]
    path, _ = asvc.run_file(steps["write"].run_id, "out/squares.csv")
    assert path.read_text() == "0\n1\n4\n9"


def test_cancel_marks_the_dag_run_failed_and_stops_the_container(live, asvc, tmp_path):
    deployment = live
    path = small_pipeline(tmp_path / "nb", "af-cancel",
                          "import time\nprint('sleeping', flush=True)\ntime.sleep(300)")
    version = asvc.ship_pipeline(path).version
    run = asvc.run_pipeline(version.pipeline, backend="airflow", detach=False)

    def middle_running() -> bool:
        info = asvc.advance_pipeline_run(run.id)
        step = next(s for s in info.steps if s.id == "middle")
        return step.status == "running" and "sleeping" in log_of(asvc, step.run_id)

    until(middle_running, RUN_TIMEOUT, "the middle step to run", every=1.0)
    info = asvc.cancel_pipeline_run(run.id)
    assert info.status == "cancelled"
    assert {s.id: s.status for s in info.steps} == {
        "first": "succeeded", "middle": "cancelled", "last": "cancelled"}
    url = f"/api/v2/dags/ml-ship.af-cancel.v1/dagRuns/ml-ship-{run.id}"
    until(lambda: deployment.get(url)["state"] == "failed", 60, "the DAG run to fail")
    client = DockerBackend(asvc.settings).client()
    until(lambda: not client.containers.list(filters={"label": "ml-ship.job=af-cancel-middle"}),
          90, "the step's container to stop")


def test_wrong_password_is_refused_naming_the_user_only(live, tmp_path):
    deployment = live
    svc = ShipService(settings_for(deployment, tmp_path / "home",
                                   airflow_password="not-the-password"))
    ok, reason = svc.backend("airflow").available()
    assert not ok
    assert f"refused the credentials of user {deployment.username!r}" in reason
    assert "not-the-password" not in reason
    svc.close()


# ---- from the lab: the server's routes ------------------------------------------------------


@pytest.fixture
def jp_server_config(live: AirflowHarness, tmp_path: Path) -> dict[str, Any]:
    """The Jupyter server of the lab, with the airflow backend set up (as in a user's config)."""
    settings = settings_for(live, tmp_path / "ml_home")
    keys = [k for k in settings.trait_names(config=True) if k == "home" or k.startswith(
        ("airflow_", "docker_base", "ca_bundle", "freeze"))]
    return {"ServerApp": {"jpserver_extensions": {"jupyter_ml_ship": True}},
            "MlShip": {**{k: getattr(settings, k) for k in keys}, "reconcile_interval": 200}}


async def test_the_lab_runs_the_example_pipeline_on_airflow(api: Api, jp_root_dir: Path):
    for f in ["churn.pipeline.yaml", "prepare.ipynb", "train.ipynb", "evaluate.ipynb"]:
        shutil.copy(EXAMPLES / f, jp_root_dir / f)
    health = {b["name"]: b for b in js(await api("GET", "health"))["backends"]}
    assert health["airflow"]["available"], health["airflow"]
    await api("POST", "pipelines", body={"path": "churn.pipeline.yaml"}, expect=201)
    run = js(await api("POST", "pipelines", "churn", "runs", expect=201,
                       body={"backend": "airflow", "parameters": {"rows": 200}}))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RUN_TIMEOUT
    while True:
        info = js(await api("GET", "pipeline-runs", run["id"]))
        if info["status"] in ("succeeded", "failed", "cancelled") or loop.time() > deadline:
            break
        await asyncio.sleep(0.5)
    assert info["status"] == "succeeded", info
    steps = {st["id"]: st for st in info["steps"]}
    assert steps["prepare"]["outputs"]["rows"] == 200
    log = (await api("GET", "runs", steps["train"]["run_id"], "logs")).body.decode()
    assert "training on 200 customers" in log
    output = js(await api("GET", "runs", steps["evaluate"]["run_id"], "output"))
    assert "model approved" in json.dumps(output)


COUNT_PY = """\
import argparse, json, os
ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("--expect", type=int)
a = ap.parse_args()
rows = open(a.data).read().split()
assert len(rows) == a.expect, (len(rows), a.expect)
print(f"counted {len(rows)} rows, sum {sum(map(int, rows))}", flush=True)
os.makedirs("out", exist_ok=True)
open("out/count.txt", "w").write(str(len(rows)))
json.dump({"rows": len(rows), "total": sum(map(int, rows))}, open(os.environ["ML_SHIP_OUTPUTS"], "w"))
"""


def test_a_command_step_runs_as_an_airflow_task_with_its_file_log_and_outputs(asvc, tmp_path):
    """A command step is a DockerOperator task like the others: it reads the file the step
    before it wrote (shared storage), its log line comes back, its outputs (the JSON file at
    $ML_SHIP_OUTPUTS) come back as the step's outputs, and its own files are listed with its
    run. (Two steps only: each more is an image and a task, and outputs feeding a next step are
    tested above.)"""
    folder = tmp_path / "cmd"
    make_notebook(folder / "write.ipynb", "import os\nos.makedirs('out', exist_ok=True)\n"
                  "open('out/n.txt', 'w').write(' '.join(str(i) for i in range(n)))\n"
                  "from jupyter_ml_ship import record\nrecord('n', n)",
                  params="n = 5", metadata={"ml_ship": {"name": "af-cmd-write"}})
    (folder / "count.py").write_text(COUNT_PY)
    path = folder / "af-cmd.pipeline.yaml"
    path.write_text(
        "name: af-cmd\nsteps:\n  write: {notebook: write.ipynb}\n"
        "  count:\n    command: [\"python3\", \"count.py\", "
        "\"{{ steps.write.files['out/n.txt'] }}\", \"--expect\", \"{{ steps.write.outputs.n }}\"]\n"
        "    depends_on: [write]\n")
    info = run_on_airflow(asvc, path)
    steps = {s.id: s for s in info.steps}
    assert info.status == "succeeded", "\n".join(
        f"{s.id}: {s.status} {s.error and s.error.message}\n"
        + (log_of(asvc, s.run_id)[-2500:] if s.run_id else "") for s in info.steps)
    assert steps["count"].outputs == {"rows": 5, "total": 10}
    assert "counted 5 rows, sum 10" in log_of(asvc, steps["count"].run_id)
    assert [f.path for f in asvc.run_files(steps["count"].run_id).files] == ["out/count.txt"]
