"""PySpark jobs on a REAL standalone Spark cluster (a master and two workers from pyspark's own
jars on 127.0.0.1, one cluster for the module: tests/python/spark_harness.py). The notebook gets
a ready ``spark`` session named after its job and run; both workers do tasks; the run records
the application's id and UI link and keeps its event log; a cancel stops the application.
Skipped without pyspark and Java unless ``ML_SHIP_REQUIRE`` names ``spark``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_ml_ship.errors import BadInput

from .conftest import require
from .spark_harness import Cluster, start_cluster, usable

TIMEOUT = 180


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    ok, why = usable()
    require("spark", ok, why)
    found = start_cluster(tmp_path_factory.mktemp("spark"), workers=2)
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture(autouse=True)
def driver_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs' drivers (and their Spark UI) listen on 127.0.0.1 like every server of the
    tests: the kernels inherit the service's environment."""
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")


def spark_meta(cluster: Cluster) -> dict:
    return {"ml_ship": {"spark": {
        "master": cluster.master_url, "executors": 2, "memory": "512m",
        # start tasks only once both executors are there (each worker has one core)
        "conf": {"spark.scheduler.minRegisteredResourcesRatio": "1.0",
                 "spark.scheduler.maxRegisteredResourcesWaitingTime": "60s"}}}}


def _until(what: str, ok, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ok()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def _events(run_dir: Path) -> list[dict]:
    files = [f for f in (run_dir / "spark" / "events").rglob("*") if f.is_file()]
    assert files, "no event log kept with the run"
    return [json.loads(line) for f in files for line in f.read_text().splitlines() if line]


def test_a_pyspark_notebook_runs_on_both_workers_of_the_cluster(svc, nb, cluster) -> None:
    svc.ship(nb("counts.ipynb",
                "import time\n"
                "def slow(x):\n    time.sleep(0.3)\n    return x * x\n"
                "total = spark.sparkContext.parallelize(range(n), 8).map(slow).sum()\n"
                "print('total', total)",
                "from jupyter_ml_ship import record\nrecord('total', total)\n"
                "record('app', spark.sparkContext.appName)",
                params="n = 4", metadata=spark_meta(cluster)))
    run = svc.run("counts", parameters={"n": 16})
    info = svc.wait(run.id, TIMEOUT)
    assert info.status == "succeeded", info.error
    assert info.outputs["total"] == sum(x * x for x in range(16))
    assert info.outputs["app"] == f"ml-ship counts {run.id}"  # named after the job and run
    assert info.spark is not None and info.spark.app_id.startswith("app-")
    assert info.spark.ui_url and info.spark.ui_url.startswith("http://")
    assert info.spark.master == cluster.master_url
    assert info.spark.app_id in svc.read_log(run.id)[0].decode()
    # the master ran it and saw it end
    done = {a["id"]: a for a in cluster.state()["completedapps"]}
    assert done[info.spark.app_id]["name"] == f"ml-ship counts {run.id}"
    # both workers did tasks: two executors (one per 1-core worker) each ran tasks
    events = _events(svc.home / "runs" / run.id)
    by_executor: dict[str, int] = {}
    for e in events:
        if e["Event"] == "SparkListenerTaskEnd":
            ex = e["Task Info"]["Executor ID"]
            by_executor[ex] = by_executor.get(ex, 0) + 1
    workers = {e["Executor Info"]["Log Urls"]["stdout"].split("/logPage")[0]
               for e in events if e["Event"] == "SparkListenerExecutorAdded"}
    assert len(by_executor) == 2 and all(n > 0 for n in by_executor.values()), by_executor
    assert len(workers) == 2, workers


def test_a_cancelled_pyspark_run_stops_its_application(svc, nb, cluster) -> None:
    svc.ship(nb("forever.ipynb",
                "import time\n"
                "spark.sparkContext.parallelize(range(2), 2).map(lambda x: time.sleep(600)).count()",
                metadata=spark_meta(cluster)))
    run = svc.run("forever")

    def app_running():
        info = svc.get_run(run.id)
        if info.spark is None:
            return None
        active = {a["id"] for a in cluster.state()["activeapps"]}
        return info.spark.app_id if info.spark.app_id in active else None

    app_id = _until("the application running on the master", app_running, TIMEOUT)
    assert svc.get_run(run.id).spark.ui_url  # the live UI link while it runs
    info = svc.cancel(run.id)
    assert info.status == "cancelled"
    _until("the application gone from the master's active list",
           lambda: app_id not in {a["id"] for a in cluster.state()["activeapps"]})
    assert app_id in {a["id"] for a in cluster.state()["completedapps"]}
    assert svc.get_run(run.id).spark.app_id == app_id  # kept in the record


def test_a_bad_spark_setting_is_refused_naming_it(svc, nb) -> None:
    svc.ship(nb("bad.ipynb", "print(1)",
                metadata={"ml_ship": {"spark": {"master": "spark://127.0.0.1:7077",
                                                "executors": "two"}}}))
    with pytest.raises(BadInput, match=r"metadata.ml_ship.spark.executors"):
        svc.run("bad")


STEP_PIPELINE = """
name: sparky
steps:
  count:
    notebook: count.ipynb
    spark:
      master: {master}
      executors: 1
      memory: 512m
      conf: {{spark.sql.shuffle.partitions: "5"}}
"""


def test_a_pipeline_steps_spark_key_runs_it_on_the_cluster_over_the_notebooks(
        svc, nb, cluster, tmp_path) -> None:
    # the notebook alone would run on local[1] with 3 shuffle partitions; the step moves it to
    # the cluster with one executor (one JVM to start: both workers busy is the first test's),
    # its conf merged key by key over the notebook's
    nb("count.ipynb",
       "from jupyter_ml_ship import record\n"
       "conf = spark.sparkContext.getConf()\n"
       "record('master', spark.sparkContext.master)\n"
       "record('partitions', spark.conf.get('spark.sql.shuffle.partitions'))\n"
       "record('kept', conf.get('spark.sql.ansi.enabled'))\n"
       "record('cores_max', conf.get('spark.cores.max'))\n"
       "record('total', spark.range(100).groupBy().sum('id').first()[0])",
       metadata={"ml_ship": {"spark": {"master": "local[1]", "conf": {
           "spark.sql.shuffle.partitions": "3", "spark.sql.ansi.enabled": "true"}}}})
    path = tmp_path / "work" / "sparky.pipeline.yaml"
    path.write_text(STEP_PIPELINE.format(master=cluster.master_url))
    version = svc.ship_pipeline(path).version
    assert version.steps[0].spark["master"] == cluster.master_url
    info = svc.drive_pipeline_run(svc.run_pipeline("sparky", detach=False).id,
                                  timeout=2 * TIMEOUT)  # an executor JVM starts on a worker
    step = info.steps[0]
    if info.status != "succeeded":
        log = svc.read_log(step.run_id)[0].decode() if step.run_id else ""
        pytest.fail(f"{info.status}: {info.error} {step.error}\n{log[-4000:]}\n"
                    f"master: {cluster.state()}")
    assert step.outputs == {"master": cluster.master_url, "partitions": "5", "kept": "true",
                            "cores_max": "1", "total": 4950}
    run = svc.get_run(step.run_id)
    assert run.spark is not None and run.spark.master == cluster.master_url
    done = {a["id"]: a for a in cluster.state()["completedapps"]}
    assert done[run.spark.app_id]["name"] == f"ml-ship {step.job} {step.run_id}"


@pytest.mark.parametrize("spark, message", [
    ("{executors: two}", r"sparky.pipeline.yaml, line 6: steps.count.spark.executors must be a "
                         r"whole number"),
    ("{memory: lots}", r"line 6: steps.count.spark.memory: 'lots' is not a JVM memory size"),
    ("{master: 'http://x'}", r"line 6: steps.count.spark.master: 'http://x' is not a Spark"),
    ("{workers: 2}", r"line 6: steps.count.spark: unknown key\(s\) workers"),
    ("[local]", r"line 6: steps.count.spark must be true or a mapping"),
])
def test_a_bad_step_spark_key_is_refused_at_load_naming_the_step_and_key(
        tmp_path, spark, message) -> None:
    from jupyter_ml_ship.pipelines.spec import load_pipeline

    path = tmp_path / "sparky.pipeline.yaml"
    path.write_text("name: sparky\nsteps:\n  count:\n    notebook: count.ipynb\n"
                    f"    depends_on: []\n    spark: {spark}\n")
    with pytest.raises(BadInput, match=message):
        load_pipeline(path)
