"""``ml-ship agent``: the periodic work with every Jupyter server stopped — schedules fire,
pipeline runs whose scheduler died are resumed, a killed agent is replaced by a waiting one, and
a Jupyter server on the same store never fires a tick the agent fired."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jupyter_ml_ship.core.engine import scheduler
from jupyter_ml_ship.core.schedules import _state_path

from .conftest import REPO
from .test_pipelines import TIMEOUT, explain, steps_of, write
from .waits import until


def start_agent(cli_env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")
    return subprocess.Popen([sys.executable, "-m", "jupyter_ml_ship", "agent", *args],
                            env=cli_env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    return proc.wait(30)




def seen_two_minutes_ago(svc, name: str, version: int = 1) -> None:
    """The schedule's state as if a server last looked two minutes ago: a tick is due now."""
    tick = (datetime.now(timezone.utc) - timedelta(minutes=2)).replace(second=0, microsecond=0)
    path = _state_path(svc, "job", name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": version, "tick": tick.isoformat()}))


def one_run_per_tick(runs) -> bool:
    """No two runs of a ``* * * * *`` schedule in one minute (a run a minute later is the next
    tick's, fired as it should be)."""
    minutes = [r.created_at.replace(second=0, microsecond=0) for r in runs]
    return len(set(minutes)) == len(minutes)


def test_an_agent_fires_a_schedule_with_no_jupyter_server(svc, nb, cli_env, tmp_path):
    svc.ship(nb("every.ipynb", "print('fired by the agent')",
                metadata={"ml_ship": {"schedule": "* * * * *"}}))
    health = svc.health()
    assert health.periodic == "none" and "no agent or Jupyter server fires them" in \
        health.warnings[0]
    seen_two_minutes_ago(svc, "every")
    log = tmp_path / "agent.log"
    agent = start_agent(cli_env, "--interval", "0.2", log=log)
    try:
        runs = until(lambda: svc.runs(job="every")[0], 60, "the schedule's run", log)
        done = svc.wait(runs[0].id, TIMEOUT)
        assert done.status == "succeeded", svc.read_log(done.id)[0]
        assert b"fired by the agent" in svc.read_log(done.id)[0]
        info = until(svc.agent, 10, "the agent's lease")
        assert info.pid == agent.pid and info.last_tick is not None
        health = svc.health()
        assert health.periodic == "agent" and health.agent and not health.warnings
        time.sleep(1)
        assert one_run_per_tick(svc.runs(job="every")[0])  # that tick fired once
    finally:
        assert stop(agent) == 0  # SIGTERM: a clean stop
    text = log.read_text()
    assert re.search(r"schedule '\* \* \* \* \*' of job every v1: \w+", text), text
    assert f"run {done.id} (every v1): succeeded" in text and text.rstrip().endswith("stopped")
    assert svc.agent() is None  # the lease was given back


def test_the_agent_resumes_a_pipeline_run_whose_scheduler_was_killed(svc, nb, cli_env,
                                                                     tmp_path):
    nb("first.ipynb", "import time\ntime.sleep(2)",
       "from jupyter_ml_ship import record\nrecord('v', 7)")
    nb("second.ipynb", "from jupyter_ml_ship import record\nrecord('got', v)", params="v = 0")
    path = write(tmp_path / "work" / "chain.pipeline.yaml", """
steps:
  first: {notebook: first.ipynb}
  second: {notebook: second.ipynb, depends_on: [first], parameters: {v: "{{ steps.first.outputs.v }}"}}
""")
    svc.ship_pipeline(path)
    info = svc.run_pipeline("chain", detach=False)
    pid = scheduler.spawn(svc, info.id)
    until(lambda: scheduler.scheduler_alive(svc, info.id), 60, "the scheduler")
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    log = tmp_path / "agent.log"
    agent = start_agent(cli_env, "--interval", "0.2", log=log)
    try:
        final = until(lambda: (lambda i: i if i.status == "succeeded" else None)(
            svc.get_pipeline_run(info.id, reconcile=False)), TIMEOUT, "the pipeline run", log)
        assert steps_of(final)["second"].outputs == {"got": 7}, explain(svc, final)
        until(lambda: f"pipeline {info.id} (pipeline chain): succeeded" in log.read_text(), 10,
              "the agent to say so", log)
    finally:
        stop(agent)


def test_a_killed_agent_is_replaced_by_a_waiting_one_that_resumes_the_pipeline(
        svc, nb, cli_env, tmp_path):
    nb("slow.ipynb", "import time\ntime.sleep(3)",
       "from jupyter_ml_ship import record\nrecord('v', 1)")
    nb("after.ipynb", "from jupyter_ml_ship import record\nrecord('got', v + 1)", params="v = 0")
    path = write(tmp_path / "work" / "two.pipeline.yaml", """
steps:
  slow: {notebook: slow.ipynb}
  after: {notebook: after.ipynb, depends_on: [slow], parameters: {v: "{{ steps.slow.outputs.v }}"}}
""")
    svc.ship_pipeline(path)
    logs = tmp_path / "a.log", tmp_path / "b.log"
    first = start_agent(cli_env, "--interval", "0.2", "--lease-ttl", "2", log=logs[0])
    until(svc.agent, 30, "the first agent's lease", logs[0])
    second = start_agent(cli_env, "--interval", "0.2", "--lease-ttl", "2", log=logs[1])
    try:
        until(lambda: "waiting to take over" in logs[1].read_text(), 30, "the second agent",
              logs[1])
        info = svc.run_pipeline("two", detach=False)  # no scheduler of its own: agents only
        until(lambda: steps_of(svc.get_pipeline_run(info.id, reconcile=False))["slow"].run_id,
              30, "the first step's run", logs[0])
        stop(first, signal.SIGKILL)
        for pid in _scheduler_pids(svc, info.id):
            os.kill(pid, signal.SIGKILL)
        final = until(lambda: (lambda i: i if i.status == "succeeded" else None)(
            svc.get_pipeline_run(info.id, reconcile=False)), TIMEOUT, "the pipeline run",
            logs[1])
        assert steps_of(final)["after"].outputs == {"got": 2}
        taken = svc.agent()
        assert taken is not None and taken.pid == second.pid
    finally:
        stop(first, signal.SIGKILL)
        stop(second)
    assert "(took over)" in logs[1].read_text()


def _scheduler_pids(svc, run_id: str) -> list[int]:
    """The pipeline run's scheduler process, if one was spawned for it (a new one, by the
    agent's tick that found the run orphaned)."""
    spawned = json.loads((scheduler.run_dir(svc, run_id) / "scheduler.json").read_text()) \
        if (scheduler.run_dir(svc, run_id) / "scheduler.json").exists() else {}
    return [spawned["pid"]] if spawned.get("pid") else []


def test_a_jupyter_server_and_an_agent_on_one_store_fire_a_tick_once(svc, nb, cli_env,
                                                                     tmp_path):
    svc.ship(nb("once.ipynb", "print('one run per tick')",
                metadata={"ml_ship": {"schedule": "* * * * *"}}))
    seen_two_minutes_ago(svc, "once")
    log = tmp_path / "agent.log"
    server_log = open(tmp_path / "server.log", "ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.port=0", "--ServerApp.token=t", "--ServerApp.open_browser=False",
         f"--ServerApp.root_dir={tmp_path / 'work'}", "--MlShip.schedule_interval=1",
         "--MlShip.reconcile_interval=200", "--allow-root"],
        env=cli_env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
    agent = start_agent(cli_env, "--interval", "0.2", log=log)
    try:
        until(lambda: svc.runs(job="once")[0], 60, "the tick's run", log)
        time.sleep(4)  # the server looked at least three times meanwhile
        assert one_run_per_tick(svc.runs(job="once")[0])
    finally:
        stop(agent)
        stop(server)


def test_the_documented_agent_commands_start_it(svc, nb, cli_env, tmp_path):
    """docs/ml-ship-agent.service's ExecStart and docs/jupyterhub_agent.py's command run."""
    unit = (REPO / "docs" / "ml-ship-agent.service").read_text()
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M)[1]
    argv = shlex.split(exec_start.replace("/opt/ml-ship/venv/bin/ml-ship",
                                          str(Path(sys.executable).with_name("ml-ship"))))
    assert argv[1] == "agent"
    env = {**cli_env}
    for line in re.findall(r"^Environment=(.+)$", unit, re.M):
        key, _, _value = shlex.split(line)[0].partition("=")
        assert key.startswith("ML_SHIP_")  # the unit says which home / store it serves
    done = subprocess.run([*argv, "--once"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "holding the lease" in done.stdout and "stopped" in done.stdout
    hub: dict = {}
    exec(compile((REPO / "docs" / "jupyterhub_agent.py").read_text(), "hub", "exec"),
         {"c": _Config(hub)})
    service = hub["services"][0]
    assert service["name"] == "ml-ship-agent" and service["command"][1:3] == ["-m",
                                                                           "jupyter_ml_ship"]
    command = [sys.executable, *service["command"][1:], "--once"]
    done = subprocess.run(command, env={**cli_env, **service.get("environment", {}),
                                        "ML_SHIP_HOME": cli_env["ML_SHIP_HOME"]},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "holding the lease" in done.stdout, done.stderr


class _Config:
    """Enough of traitlets' config object for ``c.JupyterHub.services = [...]``."""

    def __init__(self, into: dict):
        self.__dict__["JupyterHub"] = _Section(into)


class _Section:
    def __init__(self, into: dict):
        self.__dict__["_into"] = into

    def __setattr__(self, key, value):
        self._into[key] = value


@pytest.mark.parametrize("ttl", [2.0])
def test_the_lease_is_held_by_one_holder_and_taken_over_after_its_ttl(svc, ttl):
    assert svc.acquire_lease("a:1", ttl) is True
    assert svc.acquire_lease("b:2", ttl) is False  # held
    assert svc.acquire_lease("a:1", ttl) is True  # renewed
    assert svc.agent().holder == "a:1"
    time.sleep(ttl + 0.2)
    assert svc.agent() is None  # expired: nobody does the work
    assert svc.acquire_lease("b:2", ttl) is True and svc.agent().holder == "b:2"
    assert svc.acquire_lease("a:1", ttl) is False
    svc.release_lease("b:2")
    assert svc.agent() is None


def test_a_run_claimed_by_a_killed_agent_is_taken_back_and_started(settings, nb, cli_env,
                                                                   tmp_path):
    """Team mode: an agent killed between claiming a user's queued run and handing it to the
    backend leaves it queued and claimed; the next agent takes it back and starts it."""
    from jupyter_ml_ship.core import ShipService
    from jupyter_ml_ship.core.access import Actor
    from jupyter_ml_ship.core.tick import CLAIM_FILE
    from jupyter_ml_ship.store import Run

    settings.team_mode = True
    user = ShipService(settings, actor=Actor.of("ada"))
    user.ship(nb("claimed.ipynb", "print('started after all')"))
    assert user.acquire_lease("dead-host:1", ttl=0.5)  # the agent that will die
    run = user.run("claimed")
    # what that agent left when it was killed right after its claim: the claim, no backend ref
    with user.store.session() as s:
        row = s.get(Run, run.id)
        row.queue = "claimed"
        run_dir = Path(row.run_dir)
    old = (datetime.now(timezone.utc) - timedelta(minutes=2)).isoformat()
    (run_dir / CLAIM_FILE).write_text(json.dumps({"holder": "dead-host:1", "at": old}))
    time.sleep(0.6)  # its lease runs out
    log = tmp_path / "agent.log"
    agent = start_agent({**cli_env, "ML_SHIP_TEAM_MODE": "1"}, "--interval", "0.5", log=log)
    try:
        done = until(lambda: (r := user.get_run(run.id, reconcile=False)).status
                     in ("succeeded", "failed") and r, TIMEOUT, "the taken-back run", log)
    finally:
        stop(agent)
    assert done.status == "succeeded", user.read_log(run.id)[0]
    assert b"started after all" in user.read_log(run.id)[0]
    assert f"took back {run.id}" in log.read_text()
    with user.store.session() as s:
        assert s.get(Run, run.id).backend_ref  # handed to the backend this time
    # a claim another process made a moment ago is left to it; it is taken back once stale
    assert user.acquire_lease("dead-host:1", ttl=0.5)
    fresh = user.run("claimed")
    with user.store.session() as s:
        row = s.get(Run, fresh.id)
        row.queue = "claimed"
        now = datetime.now(timezone.utc)
        Path(row.run_dir, CLAIM_FILE).write_text(json.dumps({"holder": "other-host:2",
                                                             "at": now.isoformat()}))
    assert user.take_back_lost_claims(now) == []
    assert user.take_back_lost_claims(now + timedelta(minutes=1)) == [fresh.id]
    user.release_lease("dead-host:1")
    user.close()


def test_an_idle_agent_leaves_the_store_alone_until_someone_writes_it(settings, nb):
    """Idle, the agent only reads SQLite's change marker (and renews its lease a few times per
    TTL); a run recorded by another process is a write, which the next look sees at once."""
    import threading

    from sqlalchemy import event

    from jupyter_ml_ship.cli._agent import Agent
    from jupyter_ml_ship.core import ShipService

    hour = (datetime.now(timezone.utc).hour + 12) % 24  # due in hours: nothing fires
    other = ShipService(settings)  # another process: its own connections
    for i in range(20):
        other.ship(nb(f"j{i}/job.ipynb", "print(1)",
                      metadata={"ml_ship": {"schedule": f"{i} {hour} * * *", "name": f"j{i}"}}))
    svc = ShipService(settings)
    logs: list[str] = []
    agent = Agent(svc, interval=0.05, ttl=10.0, log=logs.append)
    statements: list[str] = []
    event.listen(svc.store.engine, "before_cursor_execute",
                 lambda _c, _cur, stmt, *_: statements.append(stmt))
    thread = threading.Thread(target=agent.run)
    thread.start()
    try:
        until(lambda: any("holding the lease" in m for m in logs), 10, "the lease")
        until(lambda: agent.seen is not None and not agent.active, 10, "an idle agent")
        statements.clear()
        time.sleep(2)  # 40 looks at 0.05 s (here a sleep is the point: time passing idle)
        assert len(statements) <= 12, statements  # a tick alone is about 10 statements
        run = other.run("j0")
        until(lambda: any(run.id in m for m in logs), 5, "the agent to follow the new run")
        assert other.wait(run.id, 120).status == "succeeded"
    finally:
        agent.stop.set()
        thread.join(30)
        svc.close()
        other.close()
