"""The local backend's warm runner: runs and kernels forked from it behave as cold ones do."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.runner import _warm
from jupyter_ml_ship.store import Run

PROBE = """import os, random, sys
from jupyter_ml_ship import record
print(f'n={n} in {os.getcwd()}', flush=True)
record('n', n)
record('random', random.random())
record('cmdline', open('/proc/self/cmdline').read().replace(chr(0), ' '))
record('argv0', sys.argv[0])
record('cwd', os.getcwd())
record('value', os.environ.get('ML_SHIP_TEST_VALUE'))
record('in_path', os.getcwd() in sys.path or '' in sys.path)
"""


def log_text(svc, run_id):
    return svc.read_log(run_id)[0].decode()


def wait_until(predicate, timeout=30.0):
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def warm(svc):
    assert svc.prewarm() is True
    pid = _warm.wait_ready(svc.settings, 60)
    assert pid, (svc.settings.home_path / "warm" / "warm-runner.log").read_text()
    yield pid
    svc.stop_warm_runner()


def gone(pid):
    from jupyter_ml_ship.runner._proc import start_time as _start_time

    return _start_time(pid) is None  # a zombie waiting for this test to reap it is gone too


def backend_ref(svc, run_id):
    with svc.store.session() as s:
        return dict(s.get(Run, run_id).backend_ref)


def test_a_warm_run_is_what_a_cold_run_is(svc, nb, warm, monkeypatch):
    monkeypatch.setenv("ML_SHIP_TEST_VALUE", "from the caller's environment")
    svc.ship(nb("probe.ipynb", PROBE, params="n = 1"))
    runs = [svc.wait(svc.run("probe", parameters={"n": n}).id, 120) for n in (5, 6)]
    for n, info in zip((5, 6), runs):
        assert info.status == "succeeded", (info.error, log_text(svc, info.id))
        out = info.outputs
        assert backend_ref(svc, info.id).get("warm") is True
        assert "jupyter_ml_ship.runner._forkserver" in out["cmdline"]  # forked, not exec'd
        assert out["n"] == n and f"n={n} in" in log_text(svc, info.id)
        # the notebook's folder in the run's private copy of its project, first on sys.path
        assert Path(out["cwd"]).parts[-2:] == (info.id, "project") and out["in_path"]
        assert out["argv0"].endswith("ipykernel_launcher.py")
        assert out["value"] == "from the caller's environment"
        log = log_text(svc, info.id)
        assert "To connect another client" not in log and "Traceback" not in log, log
    assert runs[0].outputs["random"] != runs[1].outputs["random"]  # reseeded in every fork

    monkeypatch.setenv("ML_SHIP_WARM_RUNNER", "0")  # the same run, cold, for comparison
    cold_svc = ShipService(MlShip(home=svc.settings.home, freeze_environment=False))
    try:
        cold = cold_svc.wait(cold_svc.run("probe", parameters={"n": 7}).id, 120)
    finally:
        cold_svc.close()
    assert cold.status == "succeeded"
    assert "ipykernel_launcher" in cold.outputs["cmdline"] and not backend_ref(svc, cold.id).get("warm")
    assert {k: v for k, v in cold.outputs.items() if k not in ("n", "random", "cmdline", "cwd")} \
        == {k: v for k, v in runs[0].outputs.items() if k not in ("n", "random", "cmdline", "cwd")}


def test_cancel_and_kill_reach_a_warm_run_and_its_kernel(svc, nb, warm):
    svc.ship(nb("slow.ipynb", "import os, time\nprint('kernel', os.getpid(), flush=True)\n"
                              "time.sleep(300)"))
    cancelled = svc.run("slow")
    assert wait_until(lambda: "kernel " in log_text(svc, cancelled.id))
    kernel = int(log_text(svc, cancelled.id).split("kernel ")[1].split()[0])
    svc.cancel(cancelled.id)
    info = svc.wait(cancelled.id, 60)
    assert info.status == "cancelled"
    assert wait_until(lambda: gone(kernel), 30)

    killed = svc.run("slow")
    assert wait_until(lambda: "kernel " in log_text(svc, killed.id))
    kernel = int(log_text(svc, killed.id).split("kernel ")[1].split()[0])
    os.killpg(backend_ref(svc, killed.id)["pid"], signal.SIGKILL)
    info = svc.wait(killed.id, 60)
    assert info.status == "failed" and "ended without a result" in info.error.message
    assert "kernel " in log_text(svc, killed.id)  # the log written before the kill is kept
    assert wait_until(lambda: gone(kernel), 30)
    assert _warm.ping(svc.settings) == warm  # the warm runner itself is untouched


def test_a_changed_module_retires_the_warm_runner_and_runs_start_cold(svc, nb, warm):
    import jupyter_ml_ship.outputs as preloaded

    svc.ship(nb("probe.ipynb", PROBE, params="n = 1"))
    path = Path(preloaded.__file__)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # "upgraded"
    try:
        info = svc.wait(svc.run("probe").id, 120)
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert info.status == "succeeded", info.error
    assert "ipykernel_launcher" in info.outputs["cmdline"]
    assert wait_until(lambda: _warm.ping(svc.settings) is None, 10)
    assert wait_until(lambda: gone(warm), 10)


def test_an_idle_warm_runner_exits_and_a_run_then_starts_cold(settings, nb):
    settings.warm_runner_idle = 1.0
    svc = ShipService(settings)
    try:
        assert svc.prewarm()
        pid = _warm.wait_ready(settings, 60)
        assert pid and svc.prewarm() is False  # one per home
        assert wait_until(lambda: gone(pid), 30)
        assert not _warm.socket_path(settings).exists()
        svc.ship(nb("probe.ipynb", PROBE, params="n = 1"))
        info = svc.wait(svc.run("probe").id, 120)
        assert info.status == "succeeded" and "ipykernel_launcher" in info.outputs["cmdline"]
    finally:
        svc.close()


def test_a_pipeline_scheduler_warms_up_and_keeps_its_settings_to_itself(svc, nb, tmp_path):
    svc.settings.airflow_password = "pw-never-in-a-step"  # handed to the scheduler only
    # the first step waits (up to a minute) for the warm runner the scheduler starts
    nb("first.ipynb", "import glob, json, time\nfrom jupyter_ml_ship import record\n"
                      "until = time.time() + 60\n"
                      "while not glob.glob(f'{home}/warm/*.sock') and time.time() < until:\n"
                      "    time.sleep(0.1)\ntime.sleep(0.5)\n"
                      "pid = json.load(open(f'{home}/warm/starting.json'))['pid']\n"
                      "record('warm', pid)\n"
                      "record('warm_environ', open(f'/proc/{pid}/environ').read())",
       params="home = ''")
    nb("then.ipynb", PROBE + "record('leak', [k for k, v in os.environ.items() "
                             "if 'pw-never-in-a-step' in v])", params="n = 1")
    spec = tmp_path / "work" / "warmup.pipeline.yaml"
    spec.write_text(f"steps:\n  first: {{notebook: first.ipynb, parameters: {{home: '{svc.home}'}}}}\n"
                    "  then: {notebook: then.ipynb, depends_on: [first]}\n")
    svc.ship_pipeline(spec)
    run = svc.run_pipeline("warmup")  # the detached scheduler process
    assert wait_until(lambda: svc.get_pipeline_run(run.id).status in
                      ("succeeded", "failed", "cancelled"), 180)
    info = svc.get_pipeline_run(run.id)
    assert info.status == "succeeded", info.error
    then = {s.id: s for s in info.steps}["then"]
    assert then.outputs["leak"] == []
    assert "jupyter_ml_ship.runner._forkserver" in then.outputs["cmdline"]
    first = {s.id: s for s in info.steps}["first"].outputs
    environ = first["warm_environ"]
    assert "pw-never-in-a-step" not in environ and "SCHEDULER_SETTINGS" not in environ
    # the scheduler owned the warm runner it started: it left with it (not after its idle time)
    assert wait_until(lambda: gone(first["warm"]), 30)
    assert _warm.ping(svc.settings) is None
    svc.prewarm()
    assert _warm.wait_ready(svc.settings, 60)

    # with the warm runner up, the next pipeline run's scheduler is forked from it too, and its
    # settings (the password) reach it over the socket, not through its environment
    again = svc.run_pipeline("warmup", use_cache=False)
    spawned = json.loads((svc.home / "pipeline-runs" / again.id / "scheduler.json").read_text())
    cmdline = Path(f"/proc/{spawned['pid']}/cmdline").read_bytes()
    environ = Path(f"/proc/{spawned['pid']}/environ").read_bytes()
    assert b"jupyter_ml_ship.runner._forkserver" in cmdline
    assert b"pw-never-in-a-step" not in environ
    assert wait_until(lambda: svc.get_pipeline_run(again.id).status in
                      ("succeeded", "failed", "cancelled"), 180)
    info = svc.get_pipeline_run(again.id)
    assert info.status == "succeeded", info.error
    assert {s.id: s for s in info.steps}["then"].outputs["leak"] == []
    assert svc.stop_warm_runner()


def test_stop_also_ends_a_warm_runner_that_is_still_starting(svc):
    from jupyter_ml_ship.runner._proc import start_time as _start_time

    assert svc.prewarm()
    spawned = json.loads((svc.settings.home_path / "warm" / "starting.json").read_text())
    assert _start_time(spawned["pid"]) is not None
    assert svc.stop_warm_runner()  # before it listens (it imports for a while first)
    assert wait_until(lambda: gone(spawned["pid"]), 10)
    time.sleep(0.5)
    assert _warm.ping(svc.settings) is None


def test_a_run_with_another_pythonpath_starts_cold_and_sees_it(svc, nb, warm, monkeypatch, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "only_here.py").write_text("VALUE = 'from PYTHONPATH'\n")
    svc.ship(nb("pp.ipynb", PROBE + "import only_here\nrecord('only', only_here.VALUE)",
                params="n = 1"))
    monkeypatch.setenv("PYTHONPATH", str(extra))
    info = svc.wait(svc.run("pp").id, 120)
    assert info.status == "succeeded", (info.error, log_text(svc, info.id))
    assert info.outputs["only"] == "from PYTHONPATH"
    assert "ipykernel_launcher" in info.outputs["cmdline"]
    assert _warm.ping(svc.settings) == warm  # still serving runs with its own PYTHONPATH


def test_a_retried_warm_run_starts_its_second_kernel_as_a_new_process(svc, nb, warm, tmp_path):
    marker = tmp_path / "first-attempt-done"
    svc.ship(nb("flaky.ipynb",
                "import os, pathlib\nfrom jupyter_ml_ship import record\n"
                f"marker = pathlib.Path({str(marker)!r})\n"
                "record('cmdline', open('/proc/self/cmdline').read().replace(chr(0), ' '))\n"
                "if not marker.exists():\n    marker.touch()\n    raise RuntimeError('first try')",
                metadata={"ml_ship": {"retries": 1}}))
    info = svc.wait(svc.run("flaky").id, 120)
    assert info.status == "succeeded", (info.error, log_text(svc, info.id))
    assert info.attempts == 2
    assert "ipykernel_launcher" in info.outputs["cmdline"]  # the retry's kernel: a new process
    assert "retrying" in log_text(svc, info.id)
