"""Pipelines on a real PostgreSQL store: concurrent scheduling passes start each step once,
outputs flow, and an unchanged re-run comes from the cache."""

from __future__ import annotations

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.engine import pipeline_runs
from tests.python.conftest import make_notebook
from tests.python.test_pipelines import advance_at_once
from tests.python.test_postgres import pg_url  # noqa: F401  (the throw-away cluster)


def test_pipeline_on_postgres_with_concurrent_passes(pg_url, tmp_path):  # noqa: F811
    work = tmp_path / "work"
    for i in range(3):
        make_notebook(work / f"w{i}.ipynb", f"from jupyter_ml_ship import record\nrecord('v', {i})")
    make_notebook(work / "sum.ipynb", "from jupyter_ml_ship import record\nrecord('total', a + b + c)",
                  params="a = 0\nb = 0\nc = 0")
    (work / "fan.pipeline.yaml").write_text("""
name: fan
steps:
  w0: {notebook: w0.ipynb}
  w1: {notebook: w1.ipynb}
  w2: {notebook: w2.ipynb}
  sum:
    notebook: sum.ipynb
    depends_on: [w0, w1, w2]
    parameters:
      a: "{{ steps.w0.outputs.v }}"
      b: "{{ steps.w1.outputs.v }}"
      c: "{{ steps.w2.outputs.v }}"
""")
    services = [ShipService(MlShip(home=str(tmp_path / "home"), db_url=pg_url,
                                   freeze_environment=False)) for _ in range(4)]
    try:
        svc = services[0]
        assert svc.health().store == "postgresql"
        svc.ship_pipeline(work / "fan.pipeline.yaml")
        run_id = pipeline_runs.create(svc, "fan", None, None, None, True, 4)
        advance_at_once(services, run_id)
        final = svc.drive_pipeline_run(run_id, timeout=240)
        assert final.status == "succeeded", final.error
        assert {s.id: s.outputs for s in final.steps}["sum"] == {"total": 3}
        step_runs, _ = svc.runs(pipeline_run_id=run_id)
        assert sorted(r.step for r in step_runs) == ["sum", "w0", "w1", "w2"]

        again = svc.drive_pipeline_run(svc.run_pipeline("fan", detach=False).id, timeout=60)
        assert again.status == "succeeded" and all(s.cached for s in again.steps)
    finally:
        for s in services:
            s.close()
