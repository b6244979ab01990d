"""MLflow logging against a real ``mlflow server`` on 127.0.0.1, started and stopped here.

The server comes from its own venv (scripts/mlflow-up.sh; ``ML_SHIP_MLFLOW_VENV``); the
project only needs the client (the ``[mlflow]`` extra). Required in CI through
``ML_SHIP_REQUIRE=mlflow``.
"""

from __future__ import annotations

import time

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.notifications import deliver_pending

from .notify_harness import free_port


def test_finished_runs_are_logged_once_with_params_metrics_and_artifacts(home, nb,
                                                                          mlflow_server):
    from mlflow.tracking import MlflowClient

    svc = ShipService(MlShip(home=str(home), freeze_environment=False, notify_backoff=0.05,
                             mlflow_tracking_uri=mlflow_server))
    svc.ship(nb("churn.ipynb", "from jupyter_ml_ship import record",
                "record('auc', 0.91)\nrecord('rows', 1200)\nrecord('model', 'gbm')",
                params="depth = 3"))
    run = svc.wait(svc.run("churn", parameters={"depth": 5}).id, timeout=120)
    assert run.status == "succeeded"
    for _ in range(3):
        deliver_pending(svc, background=False)
    info = svc.get_run(run.id)
    [logged] = info.notifications
    assert (logged.channel, logged.status, logged.attempts) == ("mlflow", "sent", 1), logged
    assert logged.url and logged.url.startswith(f"{mlflow_server}/#/experiments/")

    client = MlflowClient(tracking_uri=mlflow_server)
    exp = client.get_experiment_by_name("ml-ship/churn")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    r = runs[0]
    assert r.data.params == {"depth": "5"}
    assert r.data.metrics["auc"] == 0.91 and r.data.metrics["rows"] == 1200
    assert "ml_ship.duration_s" in r.data.metrics
    assert r.data.tags["output.model"] == "gbm"
    assert r.data.tags["ml_ship.run_id"] == run.id and r.data.tags["ml_ship.version"] == "1"
    assert len(r.data.tags["ml_ship.digest"]) == 64
    assert r.info.status == "FINISHED"
    names = sorted(a.path for a in client.list_artifacts(r.info.run_id))
    assert names == [f"churn-{run.id}.html", f"churn-{run.id}.ipynb"]
    svc.close()


def test_a_tracking_server_that_is_down_never_fails_or_delays_a_run(home, nb):
    uri = f"http://127.0.0.1:{free_port()}"  # nobody listens
    svc = ShipService(MlShip(home=str(home), freeze_environment=False, notify_backoff=30,
                             mlflow_tracking_uri=uri))
    svc.ship(nb("quick.ipynb", "print(1)"))
    run = svc.wait(svc.run("quick").id, timeout=120)
    assert run.status == "succeeded"
    t0 = time.monotonic()
    deliver_pending(svc, background=False)
    assert time.monotonic() - t0 < 5
    [n] = svc.get_run(run.id).notifications
    assert (n.channel, n.status, n.attempts) == ("mlflow", "pending", 1)
    assert "unreachable" in (n.error or "") and n.next_attempt_at is not None
    assert svc.get_run(run.id).status == "succeeded"
    svc.close()
