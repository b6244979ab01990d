"""Runs on the local backend: real kernels, real papermill, what a user sees afterwards."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from jupyter_ml_ship.errors import Conflict


def output_sources(svc, run_id):
    nb = json.loads(svc.output_path(run_id).read_text())
    return ["".join(c["source"]) for c in nb["cells"]], nb


def log_text(svc, run_id):
    return svc.read_log(run_id)[0].decode()


def wait_for_log(svc, run_id, text, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log_text(svc, run_id):
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the log:\n{log_text(svc, run_id)}")


def test_parameters_are_injected_and_outputs_recorded(svc, nb):
    path = nb("p.ipynb",
              "print(f'greeting={greeting} n={n}')",
              "from jupyter_ml_ship import record\nrecord('double', n * 2)\nrecord('words', greeting.split())",
              params="greeting = 'hi'\nn = 1")
    svc.ship(path)
    info = svc.wait(svc.run("p", parameters={"greeting": "it's \"quoted\"", "n": 21}).id, 120)
    assert info.status == "succeeded", info.error
    assert info.outputs == {"double": 42, "words": ["it's", '"quoted"']}
    assert "greeting=it's \"quoted\" n=21" in log_text(svc, info.id)
    sources, nb_json = output_sources(svc, info.id)
    injected = [c for c in nb_json["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and "n = 21" in "".join(injected[0]["source"])
    assert info.started_at and info.ended_at and info.duration > 0
    assert info.has_output


def test_notebook_without_parameters_cell_gets_them_at_the_top(svc, nb):
    svc.ship(nb("plain.ipynb", "print('plain ran')"))
    info = svc.wait(svc.run("plain").id, 120)
    assert info.status == "succeeded"
    assert "plain ran" in log_text(svc, info.id)


def test_failing_cell_is_reported_with_index_and_output_kept(svc, nb):
    svc.ship(nb("boom.ipynb", "print('before')", "raise ValueError('bad data in row 7')",
                "print('never')"))
    info = svc.wait(svc.run("boom").id, 120)
    assert info.status == "failed"
    assert info.error.ename == "ValueError"
    assert info.error.evalue == "bad data in row 7"
    sources, _ = output_sources(svc, info.id)
    assert "raise ValueError" in sources[info.error.cell_index]
    log = log_text(svc, info.id)
    assert "before" in log and "never" not in log.split("[ml-ship]")[-2]


@pytest.mark.parametrize("code, status, ename", [
    ("import sys; sys.exit(1)", "failed", "SystemExit"),
    ("import sys; sys.exit(0)", "succeeded", None),
    ("raise KeyboardInterrupt()", "failed", "KeyboardInterrupt"),
    ("import os; os._exit(3)", "failed", "DeadKernelError"),
])
def test_exits_interrupts_and_dead_kernels(svc, nb, code, status, ename):
    svc.ship(nb("x.ipynb", "print('start')", code))
    info = svc.wait(svc.run("x").id, 120)
    assert info.status == status, info.error
    if ename:
        assert info.error.ename == ename
    assert "start" in log_text(svc, info.id)


def test_cancel_stops_a_running_notebook(svc, nb):
    svc.ship(nb("slow.ipynb", "print('sleeping', flush=True)\nimport time\ntime.sleep(120)"))
    run = svc.run("slow")
    wait_for_log(svc, run.id, "sleeping")
    t = time.monotonic()
    info = svc.cancel(run.id)
    assert info.status == "cancelled"
    assert svc.cancel(run.id).status == "cancelled"  # twice: no error, still cancelled
    svc.wait(run.id, 5)
    # the runner stops the kernel and leaves the output notebook
    deadline = time.monotonic() + 30
    while not (svc.home / "runs" / run.id / "result.json").exists():
        assert time.monotonic() < deadline, "the runner did not stop"
        time.sleep(0.1)
    assert time.monotonic() - t < 30
    assert "sleeping" in log_text(svc, run.id)
    assert svc.get_run(run.id).status == "cancelled"


def test_cancel_of_a_finished_run_is_a_conflict(svc, nb):
    svc.ship(nb("quick.ipynb", "1"))
    info = svc.wait(svc.run("quick").id, 120)
    with pytest.raises(Conflict, match="already ended"):
        svc.cancel(info.id)


def test_timeout_ends_the_run_as_timed_out(svc, nb):
    svc.ship(nb("t.ipynb", "import time\nprint('waiting')\ntime.sleep(300)",
                metadata={"ml_ship": {"timeout": 3}}))
    info = svc.wait(svc.run("t").id, 120)
    assert info.status == "timed_out"
    assert "timed out after 3 s" in info.error.message
    assert info.duration < 60


def test_retries_rerun_a_failed_notebook(svc, nb, tmp_path):
    marker = tmp_path / "attempted"
    code = (f"import os, time\nm = {str(marker)!r}\n"
            "if not os.path.exists(m):\n    open(m, 'w').close()\n    raise RuntimeError('flaky')\n"
            "print('second time lucky', flush=True)\ntime.sleep(1.5)")
    svc.ship(nb("flaky.ipynb", code, metadata={"ml_ship": {"retries": 2}}))
    seen = []
    svc.subscribe(lambda info: seen.append((info.status, info.attempts)))
    run_id = svc.run("flaky").id
    wait_for_log(svc, run_id, "second time lucky")
    # while the retry runs, the run says so (and the lab is told: a change of attempt is a change)
    running = svc.get_run(run_id)
    assert (running.status, running.attempts, running.max_attempts) == ("running", 2, 3)
    assert ("running", 2) in seen, seen
    info = svc.wait(run_id, 180)
    assert info.status == "succeeded", info.error
    assert info.attempts == 2
    log = log_text(svc, info.id)
    assert "flaky" in log and "retrying" in log and "second time lucky" in log


def test_a_killed_runner_marks_the_run_failed_and_keeps_the_log(svc, nb):
    svc.ship(nb("k.ipynb", "print('line before the kill', flush=True)\nimport time\ntime.sleep(300)"))
    run = svc.run("k")
    wait_for_log(svc, run.id, "line before the kill")
    pid = svc.store.session  # noqa: F841 - keep the service open
    from jupyter_ml_ship.store import Run

    with svc.store.session() as s:
        ref = s.get(Run, run.id).backend_ref
    os.killpg(ref["pid"], signal.SIGKILL)
    info = svc.wait(run.id, 30)
    assert info.status == "failed"
    assert "ended without a result" in info.error.message
    assert "line before the kill" in log_text(svc, run.id)


def test_a_new_service_sees_runs_started_by_another(settings, nb):
    from jupyter_ml_ship.core import ShipService

    first = ShipService(settings)
    first.ship(nb("h.ipynb", "print('from the first service')"))
    run = first.run("h")
    first.close()
    second = ShipService(settings)
    info = second.wait(run.id, 120)
    assert info.status == "succeeded"
    assert "from the first service" in log_text(second, run.id)
    second.close()


def test_record_rejects_values_that_are_not_json(svc, nb):
    svc.ship(nb("r.ipynb", "from jupyter_ml_ship import record\nrecord('model', object())"))
    info = svc.wait(svc.run("r").id, 120)
    assert info.status == "failed"
    assert info.error.ename == "TypeError"
    assert "must be JSON-serializable" in info.error.evalue


def test_runs_listing_filters_and_pages(svc, nb):
    svc.ship(nb("l.ipynb", "1"))
    ids = [svc.run("l").id for _ in range(3)]
    for i in ids:
        svc.wait(i, 120)
    page, cursor = svc.runs(job="l", limit=2)
    assert [r.id for r in page] == ids[::-1][:2] and cursor
    rest, end = svc.runs(job="l", limit=2, cursor=cursor)
    assert [r.id for r in rest] == [ids[0]] and end is None
    assert len(svc.runs(status="succeeded")[0]) == 3


def test_a_home_with_a_long_path_still_talks_to_the_kernel_over_ipc(tmp_path, nb):
    from jupyter_ml_ship.config import MlShip
    from jupyter_ml_ship.core import ShipService

    home = tmp_path / ("a-rather-long-folder-name-" * 4) / "home"  # run dirs > 107 bytes
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    try:
        svc.ship(nb("ipc.ipynb", "print('over ipc')"))
        info = svc.wait(svc.run("ipc").id, 120)
        assert info.status == "succeeded", info.error
        log = log_text(svc, info.id)
        assert "over ipc" in log and "TCP" not in log, log
    finally:
        svc.close()


def test_the_runner_accepts_a_relative_run_directory(tmp_path, nb):
    import subprocess
    import sys

    path = nb("rel.ipynb", "print(f'x={x}')", params="x = 1")
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_ml_ship.runner", "rel-run", "--notebook", str(path),
         "--parameters", '{"x": 5}'], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "x=5" in proc.stdout
    assert json.loads((tmp_path / "rel-run" / "result.json").read_text())["status"] == "succeeded"
