"""Pipelines on the local backend: real kernels, outputs passed between steps, failures,
retries, cache, cancel, and a scheduler killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.engine import pipeline_runs, scheduler
from jupyter_ml_ship.errors import Conflict

TIMEOUT = 240

DIAMOND = """
name: diamond
parameters: {n: 2, fail_b: false}
steps:
  a:
    notebook: a.ipynb
    parameters: {n: "{{ params.n }}"}
  b:
    notebook: b.ipynb
    depends_on: [a]
    parameters: {x: "{{ steps.a.outputs.n10 }}", fail: "{{ params.fail_b }}"}
  c:
    notebook: c.ipynb
    depends_on: [a]
    parameters:
      x: "{{ steps.a.outputs.n10 }}"
      tag: "from {{ steps.a.outputs.label }}"
  d:
    notebook: d.ipynb
    depends_on: [b, c]
    parameters: {b: "{{ steps.b.outputs.b }}", c: "{{ steps.c.outputs.c }}", tag: "{{ steps.c.outputs.tag }}"}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def injected(svc: ShipService, run_id: str) -> str:
    nb = json.loads(svc.output_path(run_id).read_text())
    cells = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    return "".join(cells[0]["source"]) if cells else ""


def runs_of(svc, pipeline_run_id):
    return svc.runs(pipeline_run_id=pipeline_run_id)[0]


def steps_of(info):
    return {s.id: s for s in info.steps}


def explain(svc, info) -> str:
    """What went wrong in a pipeline run: each step's status and error, and its log's tail."""
    lines = [f"pipeline run {info.id}: {info.status} {info.error}"]
    for st in info.steps:
        lines.append(f"  {st.id}: {st.status} run={st.run_id} error={st.error}")
        if st.run_id and st.status not in ("succeeded", "cached"):
            log = svc.read_log(st.run_id)[0].decode(errors="replace")
            lines += [f"    | {line}" for line in log.splitlines()[-15:]]
    return "\n".join(lines)


@pytest.fixture
def diamond(nb, tmp_path):
    rec = "from jupyter_ml_ship import record\n"
    nb("a.ipynb", rec + "record('n10', n * 10)\nrecord('label', f'a{n}')", params="n = 1")
    nb("b.ipynb", "import time\ntime.sleep(1.5)",
       "if fail:\n    raise ValueError(f'b refuses x={x}')",
       rec + "record('b', x + 1)", params="x = 0\nfail = False")
    nb("c.ipynb", "import time\ntime.sleep(1.5)",
       rec + "record('c', x * 2)\nrecord('tag', tag.upper())", params="x = 0\ntag = ''")
    nb("d.ipynb", rec + "print(f'total {b + c} {tag}')\nrecord('total', b + c)",
       params="b = 0\nc = 0\ntag = ''")
    return write(tmp_path / "work" / "diamond.pipeline.yaml", DIAMOND)


def test_diamond_passes_outputs_runs_branches_in_parallel_and_caches(svc, diamond):
    svc.ship_pipeline(diamond)
    info = svc.run_pipeline("diamond", parallelism=4, detach=False)
    info = svc.drive_pipeline_run(info.id, timeout=TIMEOUT)
    assert info.status == "succeeded", explain(svc, info)
    s = steps_of(info)
    assert s["a"].outputs == {"n10": 20, "label": "a2"}
    assert s["b"].outputs == {"b": 21}  # the int 20 arrived as an int
    assert s["c"].outputs == {"c": 40, "tag": "FROM A2"}  # embedded in a string: a string
    assert s["d"].outputs == {"total": 61}
    assert s["d"].parameters == {"b": 21, "c": 40, "tag": "FROM A2"}
    assert "b = 21" in injected(svc, s["d"].run_id)
    assert "tag = \"FROM A2\"" in injected(svc, s["d"].run_id)
    assert "total 61 FROM A2" in svc.read_log(s["d"].run_id)[0].decode()
    # b and c (1.5 s each) ran at the same time
    assert s["b"].started_at < s["c"].ended_at and s["c"].started_at < s["b"].ended_at

    again = svc.drive_pipeline_run(svc.run_pipeline("diamond", detach=False).id, timeout=60)
    assert again.status == "succeeded"
    assert all(st.cached for st in again.steps)
    assert {st.id: st.run_id for st in again.steps} == {st.id: st.run_id for st in info.steps}
    assert steps_of(again)["d"].outputs == {"total": 61}
    assert len(svc.runs(limit=100)[0]) == 4  # nothing ran again
    with pytest.raises(Conflict):
        svc.cancel_pipeline_run(again.id)

    # --no-cache re-runs even an unchanged pipeline
    fresh = svc.drive_pipeline_run(
        svc.run_pipeline("diamond", use_cache=False, detach=False).id, timeout=TIMEOUT)
    assert fresh.status == "succeeded" and not any(st.cached for st in fresh.steps)
    assert len(svc.runs(limit=100)[0]) == 8


def test_failed_step_skips_descendants_while_the_other_branch_finishes(svc, diamond):
    svc.ship_pipeline(diamond)
    info = svc.run_pipeline("diamond", parameters={"fail_b": True}, parallelism=4,
                            detach=False)
    info = svc.drive_pipeline_run(info.id, timeout=TIMEOUT)
    s = steps_of(info)
    assert info.status == "failed"
    assert s["a"].status == "succeeded"
    assert s["b"].status == "failed" and "b refuses x=20" in s["b"].error.message
    assert s["c"].status == "succeeded" and s["c"].outputs["c"] == 40
    assert s["d"].status == "skipped" and s["d"].run_id is None
    assert "upstream step b failed" in s["d"].error.message
    assert "step b failed" in info.error.message and "b refuses" in info.error.message
    assert svc.get_run(s["b"].run_id).error.ename == "ValueError"


def test_a_step_retried_succeeds_on_its_second_attempt(svc, nb, tmp_path):
    marker = tmp_path / "attempted"
    nb("flaky.ipynb",
       "import os\nif not os.path.exists(marker):\n    open(marker, 'w').close()\n"
       "    raise RuntimeError('first attempt fails')",
       "from jupyter_ml_ship import record\nrecord('ok', True)", params="marker = ''")
    path = write(tmp_path / "work" / "flaky.pipeline.yaml", f"""
steps:
  flaky:
    notebook: flaky.ipynb
    retries: 1
    timeout: 120
    parameters: {{marker: "{marker}"}}
""")
    svc.ship_pipeline(path)
    info = svc.drive_pipeline_run(svc.run_pipeline("flaky", detach=False).id, timeout=TIMEOUT)
    assert info.status == "succeeded", explain(svc, info)
    run = svc.get_run(info.steps[0].run_id)
    assert run.attempts == 2 and run.max_attempts == 2 and run.outputs == {"ok": True}
    log = svc.read_log(run.id)[0].decode()
    assert "attempt 1 failed" in log and "first attempt fails" in log


def test_cancel_stops_the_running_step_and_the_rest(svc, nb, tmp_path):
    nb("slow.ipynb", "print('slow started', flush=True)\nimport time\ntime.sleep(120)")
    nb("after.ipynb", "print('after')")
    path = write(tmp_path / "work" / "slow.pipeline.yaml", """
steps:
  slow: {notebook: slow.ipynb}
  after: {notebook: after.ipynb, depends_on: [slow]}
""")
    svc.ship_pipeline(path)
    info = svc.run_pipeline("slow")
    run_id = steps_of(info)["slow"].run_id
    deadline = time.monotonic() + 90
    while b"slow started" not in svc.read_log(run_id)[0]:
        assert time.monotonic() < deadline, svc.read_log(run_id)[0]
        time.sleep(0.1)
    cancelled = svc.cancel_pipeline_run(info.id)
    assert cancelled.status == "cancelled"
    assert steps_of(cancelled)["after"].status == "cancelled"
    final = svc.wait_pipeline_run(info.id, timeout=60)
    assert steps_of(final)["slow"].status == "cancelled"
    assert svc.wait(run_id, 30).status == "cancelled"
    assert svc.cancel_pipeline_run(info.id).status == "cancelled"  # a second cancel is a no-op


def test_killed_scheduler_is_replaced_and_the_run_finishes(svc, settings, nb, tmp_path):
    nb("first.ipynb", "import time\ntime.sleep(4)",
       "from jupyter_ml_ship import record\nrecord('v', 7)")
    nb("second.ipynb", "from jupyter_ml_ship import record\nrecord('got', v)", params="v = 0")
    path = write(tmp_path / "work" / "chain.pipeline.yaml", """
steps:
  first: {notebook: first.ipynb}
  second:
    notebook: second.ipynb
    depends_on: [first]
    parameters: {v: "{{ steps.first.outputs.v }}"}
""")
    svc.ship_pipeline(path)
    info = svc.run_pipeline("chain", detach=False)  # "first" is started, no scheduler yet
    pid = scheduler.spawn(svc, info.id)
    deadline = time.monotonic() + 60
    while not scheduler.scheduler_alive(svc, info.id):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert not scheduler.scheduler_alive(svc, info.id)
    first = svc.wait(steps_of(info)["first"].run_id, TIMEOUT)
    assert first.status == "succeeded"  # the step itself outlives the scheduler
    time.sleep(1)
    stalled = svc.get_pipeline_run(info.id, reconcile=False)
    assert steps_of(stalled)["second"].status == "pending"  # nobody schedules it
    # a new process resumes the remaining steps
    env = {**os.environ, scheduler.SETTINGS_ENV: json.dumps({"home": settings.home,
                                                           "freeze_environment": False})}
    done = subprocess.run([sys.executable, "-m", "jupyter_ml_ship.core.scheduler_process", info.id],
                          env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    final = svc.get_pipeline_run(info.id)
    assert final.status == "succeeded", explain(svc, final)
    assert steps_of(final)["second"].outputs == {"got": 7}
    assert f"pipeline run {info.id}: succeeded" in done.stdout


def advance_at_once(services: list[ShipService], run_id: str) -> None:
    """One scheduling pass of a pipeline run from every service at the same moment."""
    barrier = threading.Barrier(len(services))
    errors: list[BaseException] = []

    def advance(svc: ShipService) -> None:
        barrier.wait()
        try:
            svc.advance_pipeline_run(run_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=advance, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def test_concurrent_advances_start_each_step_once(settings, nb, tmp_path):
    for i in range(4):
        nb(f"s{i}.ipynb", f"print('step {i}')")
    path = write(tmp_path / "work" / "wide.pipeline.yaml", "steps:\n" + "".join(
        f"  s{i}: {{notebook: s{i}.ipynb}}\n" for i in range(4)))
    services = [ShipService(MlShip(home=settings.home, freeze_environment=False))
                for _ in range(4)]
    services[0].ship_pipeline(path)
    run_id = pipeline_runs.create(services[0], "wide", None, None, None, True, 4)
    advance_at_once(services, run_id)
    final = services[0].drive_pipeline_run(run_id, timeout=TIMEOUT)
    assert final.status == "succeeded"
    runs, _ = services[0].runs(limit=100, pipeline_run_id=run_id)
    assert sorted(r.step for r in runs) == ["s0", "s1", "s2", "s3"]
    for s in services:
        s.close()


def test_a_step_whose_starter_was_interrupted_is_started_again(svc, nb, tmp_path, monkeypatch):
    """Ctrl-C lands between recording a step's run and handing it to the backend: once the
    claim is stale (a minute; here at once) the next pass fails that run and starts the step."""
    from jupyter_ml_ship.backends.local import LocalBackend
    from jupyter_ml_ship.core.engine import executor

    nb("one.ipynb", "from jupyter_ml_ship import record\nrecord('ok', 1)")
    svc.ship_pipeline(write(tmp_path / "work" / "one.pipeline.yaml",
                            "steps:\n  one: {notebook: one.ipynb}\n"))
    real_start = LocalBackend.start

    def interrupted(self, ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalBackend, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        svc.run_pipeline("one", detach=False)
    monkeypatch.setattr(LocalBackend, "start", real_start)
    (stuck,), _ = svc.pipeline_runs()
    assert stuck.steps[0].status == "starting"
    waiting = svc.drive_pipeline_run(stuck.id, timeout=1).steps[0]
    assert (waiting.status, waiting.run_id) == ("queued", runs_of(svc, stuck.id)[0].id)  # adopted

    monkeypatch.setattr(executor, "STALE_CLAIM", timedelta(0))
    final = svc.drive_pipeline_run(stuck.id, timeout=TIMEOUT)
    assert final.status == "succeeded", explain(svc, final)
    assert final.steps[0].outputs == {"ok": 1}
    assert [(r.status, r.error.ename if r.error else None) for r in runs_of(svc, stuck.id)] == [
        ("succeeded", None), ("failed", "NeverStarted")]


def test_a_step_with_cache_false_runs_every_time(svc, nb, tmp_path):
    nb("fixed.ipynb", "from jupyter_ml_ship import record\nrecord('v', 1)")
    nb("live.ipynb", "import time\nfrom jupyter_ml_ship import record\nrecord('at', time.time())")
    svc.ship_pipeline(write(tmp_path / "work" / "mixed.pipeline.yaml", """
steps:
  fixed: {notebook: fixed.ipynb}
  live: {notebook: live.ipynb, cache: false}
"""))
    first = svc.drive_pipeline_run(svc.run_pipeline("mixed", detach=False).id, timeout=TIMEOUT)
    second = svc.drive_pipeline_run(svc.run_pipeline("mixed", detach=False).id, timeout=TIMEOUT)
    assert first.status == "succeeded", explain(svc, first)
    assert second.status == "succeeded", explain(svc, second)
    a, b = steps_of(first), steps_of(second)
    assert b["fixed"].cached and b["fixed"].run_id == a["fixed"].run_id
    assert not b["live"].cached and b["live"].run_id != a["live"].run_id
    assert b["live"].outputs["at"] > a["live"].outputs["at"]
    assert svc.pipeline_version("mixed").steps[1].cache is False
