"""A job's health and a run's checks over REST (a real Jupyter server through jp_fetch)."""

from __future__ import annotations

from pathlib import Path

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService

from .conftest import make_notebook
from .test_checks import RECORD, Ended
from .test_server import (  # noqa: F401 - fixtures
    Api,
    api,
    authorizer_class,
    error_of,
    jp_server_config,
    js,
    ml_home,
)


async def test_health_of_a_job_and_the_checks_of_its_runs(api: Api, jp_root_dir: Path,
                                                          ml_home: Path) -> None:
    make_notebook(jp_root_dir / "train.ipynb", RECORD, params="acc = 0.9\nrows = 5000",
                  metadata={"ml_ship": {"checks": {"accuracy": {"min": 0.8}}}})
    await api("POST", "ship", body={"path": "train.ipynb"}, expect=201)
    svc = ShipService(MlShip(home=str(ml_home), freeze_environment=False))
    ended = Ended(svc)  # runs that end as a backend's would, without executing the notebook
    good, bad = ended("train", {"accuracy": 0.9}), ended("train", {"accuracy": 0.7})
    svc.close()
    run = js(await api("GET", "runs", bad))
    assert run["health"] == "degraded"
    assert run["checks"] == [{"name": "accuracy", "rule": "min", "value": 0.7, "baseline": None,
                              "bound": 0.8, "passed": False,
                              "message": "accuracy 0.7 < min 0.8"}]
    listed = js(await api("GET", "runs", params={"job": "train"}))["runs"]
    assert [(r["id"], r["health"]) for r in listed] == [(bad, "degraded"), (good, "healthy")]
    health = js(await api("GET", "jobs", "train", "health"))
    assert health["health"] == "degraded" and health["latest_run_id"] == bad
    assert health["failing"] == ["accuracy 0.7 < min 0.8"]
    assert health["counts"]["succeeded"] == 2 and health["counts"]["degraded"] == 1
    (acc,) = health["outputs"]
    assert acc["name"] == "accuracy" and acc["rules"] == {"min": 0.8}
    assert [(p["run_id"], p["value"], p["passed"]) for p in acc["points"]] == [
        (good, 0.9, True), (bad, 0.7, False)]
    assert len(js(await api("GET", "jobs", "train", "health",
                            params={"limit": 1}))["outputs"][0]["points"]) == 1
    code, message = error_of(await api("GET", "jobs", "train", "health", params={"limit": 0},
                                       expect=400))
    assert code == "bad_request" and "limit" in message
    code, message = error_of(await api("GET", "jobs", "nope", "health", expect=404))
    assert code == "not_found" and "nope" in message
