"""Runs started by events (``metadata.ml_ship.triggers``, issue #23): a webhook's secret URL on a
live ``jupyter server`` (no Jupyter token: the trigger's token is the credential), files dropped
into a watched folder with a real ``ml-ship agent``, a job started after its upstream succeeds,
and bad triggers refused at ship."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from jupyter_ml_ship.config import MlShip
from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.triggers import fire_after, fire_files
from jupyter_ml_ship.errors import BadInput, NotFound

from .conftest import make_notebook
from .test_agent import start_agent, stop, until
from .test_remote import ML_SHIP, TOKEN, Server, live_server

RATE = 3  # the live server's MlShip.trigger_rate_limit in these tests


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("triggers"),
                     f"--MlShip.trigger_rate_limit={RATE}") as srv:
        yield srv


def cli(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_SHIP_")}
    env.update(ML_SHIP_HOME=str(home), PATH=f"{Path(sys.executable).parent}:{env['PATH']}")
    return subprocess.run([ML_SHIP, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def triggered(name: str, folder: Path, triggers: Any, code: str = "print('x =', x)",
              params: str = "x = 1") -> Path:
    return make_notebook(folder / f"{name}.ipynb", code, params=params,
                         metadata={"ml_ship": {"name": name, "triggers": triggers}})


def ship_webhook(server: Server, name: str, tmp_path: Path, by_cli: bool = False) -> str:
    """Ship a job with a webhook trigger on the server's store; the token shown (once)."""
    path = triggered(name, tmp_path / name, {"webhook": True})
    svc = ShipService(MlShip(home=str(server.home), freeze_environment=False))
    if not by_cli:
        token = svc.ship(path).trigger_token
        assert token
        return token
    shipped = cli("ship", f"{name}.ipynb", home=server.home, cwd=tmp_path / name)
    assert shipped.returncode == 0, shipped.stderr
    found = re.search(r"POST /ml-ship/api/triggers/(\S+)", shipped.stderr)
    assert found, shipped.stderr
    assert svc.ship(path).trigger_token is None  # shown once
    return found[1]


def post(server: Server, token: str, body: Any = None) -> httpx.Response:
    return httpx.post(f"{server.url}ml-ship/api/triggers/{token}", json=body, timeout=30)


def runs_of(server: Server, job: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.url}ml-ship/api/runs", params={"job": job},
                       headers={"Authorization": f"token {TOKEN}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["runs"])


def runs(svc: ShipService, job: str) -> list[Any]:
    return svc.runs(job)[0]


def test_webhook_url_starts_a_run_with_its_parameters_and_a_wrong_token_gets_404(
        server: Server, tmp_path: Path) -> None:
    token = ship_webhook(server, "hooked", tmp_path, by_cli=True)
    fired = post(server, token, {"x": 42})  # no Jupyter token, no cookie: the URL is the key
    assert fired.status_code == 201, fired.text
    run_id = fired.json()["run_id"]
    svc = ShipService(MlShip(home=str(server.home)))
    info = svc.wait(run_id, 120)
    assert info.status == "succeeded", info.error
    assert info.parameters == {"x": 42} and info.started_by == "trigger:webhook"
    assert "x = 42" in svc.read_log(run_id)[0].decode()

    wrong = post(server, "not-" + token[4:], {"x": 1})
    assert wrong.status_code == 404 and wrong.json()["error"] == "not_found"
    assert token[4:] not in wrong.text
    bad = post(server, token, {"nope": 1})
    assert bad.status_code == 400 and "nope" in bad.json()["message"]
    assert [r["id"] for r in runs_of(server, "hooked")] == [run_id]  # nothing else started
    assert token[4:] not in (server.home.parent / "server.log").read_text()

    listed = httpx.get(f"{server.url}ml-ship/api/triggers",
                       headers={"Authorization": f"token {TOKEN}"}, timeout=30).json()
    mine = [t for t in listed["triggers"] if t["job"] == "hooked"]
    assert mine and mine[0]["kind"] == "webhook" and mine[0]["last_run_id"] == run_id
    assert token not in json.dumps(listed)
    assert httpx.get(f"{server.url}ml-ship/api/triggers", timeout=30).status_code == 403

    revoked = cli("triggers", "revoke", "hooked", home=server.home, cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert post(server, token, {"x": 2}).status_code == 404
    assert len(runs_of(server, "hooked")) == 1


def test_webhook_rate_limit_gives_429(server: Server, tmp_path: Path) -> None:
    token = ship_webhook(server, "limited", tmp_path)
    for _ in range(RATE):
        assert post(server, token).status_code == 201
    over = post(server, token)
    assert over.status_code == 429 and "limit" in over.json()["message"]
    assert len(runs_of(server, "limited")) == RATE


def test_three_dropped_files_start_three_runs_with_the_agent_and_none_after_a_restart(
        home: Path, cli_env: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "work"
    incoming = work / "data" / "incoming"
    incoming.mkdir(parents=True)
    (incoming / "before.csv").write_text("old\n")  # there at ship: not new
    triggered("ingest", work, {"files": "data/incoming/*.csv"},
              code="print('read', open(trigger_file).read().strip())", params="trigger_file = ''")
    svc = ShipService(MlShip(home=str(home), freeze_environment=False))
    svc.ship(work / "ingest.ipynb")
    log = tmp_path / "agent.log"
    agent = start_agent(cli_env, "--interval", "0.2", log=log)
    try:
        for i in range(3):
            (incoming / f"f{i}.csv").write_text(f"content {i}\n")
        (incoming / "notes.txt").write_text("not matched\n")
        found = until(lambda: (lambda r: r if len(r) >= 3 else None)(runs(svc, "ingest")), 30,
                      "three runs", log)
    finally:
        assert stop(agent) == 0
    files = sorted(r.parameters["trigger_file"] for r in found)
    assert files == [str((incoming / f"f{i}.csv").resolve()) for i in range(3)]
    assert {r.started_by for r in found} == {"trigger:files"}
    for r in found:
        info = svc.wait(r.id, 120)
        assert info.status == "succeeded", info.error
        n = Path(r.parameters["trigger_file"]).stem[1:]
        assert f"read content {n}" in svc.read_log(r.id)[0].decode()

    again = subprocess.run([sys.executable, "-m", "jupyter_ml_ship", "agent", "--once"],
                           env=cli_env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(runs(svc, "ingest")) == 3  # restarted: the same files start nothing
    listed = cli("triggers", "--json", home=home, cwd=work)
    (t,) = json.loads(listed.stdout)["triggers"]
    assert (t["job"], t["kind"], t["detail"], t["parameter"]) == (
        "ingest", "files", "data/incoming/*.csv", "trigger_file")
    assert t["last_fired"] and t["environment"] == "production"


def test_an_after_job_runs_once_when_its_upstream_succeeds(svc: ShipService, nb: Any) -> None:
    svc.ship(nb("prepare.ipynb", "print('prepared')",
                metadata={"ml_ship": {"name": "prepare-data"}}))
    svc.ship(nb("train.ipynb", "print('training')",
                metadata={"ml_ship": {"name": "train", "triggers": {"after": "prepare-data"}}}))
    assert runs(svc, "train") == []
    up = svc.wait(svc.run("prepare-data").id, 120)
    assert up.status == "succeeded", up.error
    started = until(lambda: runs(svc, "train"), 30, "the downstream run")
    svc.tick()  # the tick's catch-up sees the same success: nothing more
    assert len(runs(svc, "train")) == 1 and started[0].started_by == "trigger:after"
    assert svc.wait(started[0].id, 120).status == "succeeded"
    failed = svc.ship(nb("prepare.ipynb", "raise SystemExit(3)",
                         metadata={"ml_ship": {"name": "prepare-data"}}))
    assert svc.wait(svc.run("prepare-data", failed.version.number).id, 120).status == "failed"
    svc.tick()
    assert len(runs(svc, "train")) == 1  # a failure starts nothing
    (t,) = svc.triggers("train")
    assert (t.kind, t.detail, t.last_run_id) == ("after", "prepare-data", started[0].id)


@pytest.mark.parametrize(("triggers", "message"), [
    ({"files": "/etc/*.csv"}, r"triggers\.files: '/etc/\*\.csv' is absolute"),
    ({"files": "../up/*.csv"}, r"triggers\.files: .* leads out of the project folder"),
    ({"files": "in/*.csv"}, r"triggers\.parameter: .*no parameter 'trigger_file'"),
    ({"webhook": "yes"}, r"triggers\.webhook: true or false"),
    ({"hook": True}, r"triggers\.hook: unknown key"),
    ({"after": ["nowhere"]}, r"triggers\.after: no job or pipeline named 'nowhere'"),
    ({"webhook": True, "environment": "qa"}, r"triggers\.environment: no environment named"),
    ([{"webhook": True}, {"webhook": True}], r"triggers\[1\]: a second webhook trigger"),
])
def test_bad_triggers_are_refused_at_ship(svc: ShipService, nb: Any, triggers: Any,
                                          message: str) -> None:
    path = nb("bad.ipynb", "print(1)", metadata={"ml_ship": {"triggers": triggers}})
    with pytest.raises(BadInput, match=message):
        svc.ship(path)
    assert svc.jobs() == []  # nothing recorded


def test_a_cycle_of_after_triggers_is_refused_and_the_cli_exits_2(
        svc: ShipService, home: Path, tmp_path: Path) -> None:
    work = tmp_path / "cyc"
    make_notebook(work / "a.ipynb", "print(1)", metadata={"ml_ship": {"name": "a"}})
    make_notebook(work / "b.ipynb", "print(1)",
                  metadata={"ml_ship": {"name": "b", "triggers": {"after": ["a"]}}})
    svc.ship(work / "a.ipynb")
    svc.ship(work / "b.ipynb")
    make_notebook(work / "a.ipynb", "print(2)",
                  metadata={"ml_ship": {"name": "a", "triggers": {"after": ["b"]}}})
    refused = cli("ship", "a.ipynb", home=home, cwd=work)
    assert refused.returncode == 2
    assert "metadata.ml_ship.triggers.after: a cycle: a -> b -> a" in refused.stderr
    assert [(t.job, t.kind) for t in svc.triggers()] == [("b", "after")]


# ---- a pipeline file's triggers: (and environments over REST) -------------------------------


def pipeline_file(folder: Path, name: str, triggers: Any, x: int = 1, **top: Any) -> Path:
    """A one-step pipeline whose step prints its ``trigger_file`` parameter (and ``x``)."""
    make_notebook(folder / "load.ipynb", "print('loading', trigger_file, 'x is', x)",
                  params="trigger_file = ''\nx = 0")
    path = folder / f"{name}.pipeline.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "parameters": {"trigger_file": ""}, **top, "steps": {"load": {
            "notebook": "load.ipynb",
            "parameters": {"trigger_file": "{{ params.trigger_file }}", "x": x}}},
        **({"triggers": triggers} if triggers is not None else {})}))
    return path


def test_a_pipeline_file_s_triggers_start_pipeline_runs(svc: ShipService, nb: Any,
                                                        tmp_path: Path) -> None:
    work = tmp_path / "flow"
    incoming = work / "incoming"
    incoming.mkdir(parents=True)
    (incoming / "old.csv").write_text("there at ship: not new\n")
    svc.ship(nb("prepare.ipynb", "print('prepared')",
                metadata={"ml_ship": {"name": "prepare-data"}}))
    path = pipeline_file(work, "ingest", [{"webhook": True}, {"files": "incoming/*.csv"},
                                          {"after": ["prepare-data"]}])
    shipped = svc.ship_pipeline(path)
    token = shipped.trigger_token
    assert token and svc.ship_pipeline(path).trigger_token is None  # shown once
    assert [(t.job, t.target, t.kind) for t in svc.triggers(target="pipeline")] == [
        ("ingest", "pipeline", "after"), ("ingest", "pipeline", "files"),
        ("ingest", "pipeline", "webhook")]
    svc.ship(nb("report.ipynb", "print('report')",  # a job after the pipeline
                metadata={"ml_ship": {"name": "report", "triggers": {"after": "ingest"}}}))

    fired = svc.fire_webhook(token, {"trigger_file": "from-the-hook"})
    assert (fired.job, fired.target, fired.version) == ("ingest", "pipeline", 1)
    hooked = svc.wait_pipeline_run(fired.run_id, timeout=120)
    assert (hooked.status, hooked.started_by) == ("succeeded", "trigger:webhook")
    assert "loading from-the-hook" in svc.read_log(hooked.steps[0].run_id)[0].decode()
    (report,) = [svc.get_run(i) for i in fire_after(svc)]  # the pipeline's success
    assert (report.job, report.started_by) == ("report", "trigger:after")

    for name in ("a.csv", "b.csv"):
        (incoming / name).write_text(name)
    started = fire_files(svc)  # the tick's part: one pipeline run per new file
    assert fire_files(svc) == []  # never twice
    runs = [svc.get_pipeline_run(i, reconcile=False) for i in started]
    assert sorted(r.parameters["trigger_file"] for r in runs) == [
        str((incoming / n).resolve()) for n in ("a.csv", "b.csv")]
    assert {r.started_by for r in runs} == {"trigger:files"}
    for r in runs:  # what they print is the webhook's run's business above: stop them
        svc.cancel_pipeline_run(r.id)
        svc.wait_pipeline_run(r.id, timeout=120)

    before = len(svc.pipeline_runs("ingest")[0])
    assert svc.wait(svc.run("prepare-data").id, 120).status == "succeeded"
    after = until(lambda: (lambda r: r if len(r) > before else None)(
        svc.pipeline_runs("ingest")[0]), 30, "the pipeline run after prepare-data")
    assert after[0].started_by == "trigger:after"
    assert svc.wait_pipeline_run(after[0].id, timeout=120).status == "succeeded"
    svc.tick()  # the tick's catch-up sees the same success, and the step's own: nothing more
    assert len(svc.pipeline_runs("ingest")[0]) == before + 1

    svc.revoke_trigger("ingest", target="pipeline")
    with pytest.raises(NotFound):
        svc.fire_webhook(token, {})
    listed = cli("triggers", home=svc.home, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"ingest \(pipeline\)\s+webhook\s+revoked", listed.stdout)


@pytest.mark.parametrize(("triggers", "top", "message"), [
    ({"files": "in/*.csv", "parameter": "nope"}, {},
     r"line \d+: triggers\.parameter: the pipeline declares no parameter 'nope'"),
    ({"after": ["load"]}, {}, r"triggers\.after: 'load' is a step of this pipeline"),
    ({"after": ["nowhere"]}, {}, r"triggers\.after: no job or pipeline named 'nowhere'"),
    ({"webhook": "yes"}, {}, r"triggers\.webhook: true or false"),
    (None, {"schedule_environment": "qa"}, r"schedule_environment: no environment named 'qa'"),
])
def test_bad_pipeline_triggers_are_refused_at_check_and_ship(
        svc: ShipService, tmp_path: Path, triggers: Any, top: dict[str, Any],
        message: str) -> None:
    path = pipeline_file(tmp_path / "bad", "bad", triggers, **top)
    with pytest.raises(BadInput, match=message):
        svc.describe_pipeline_file(path)
    with pytest.raises(BadInput, match=message):
        svc.ship_pipeline(path)
    assert svc.pipelines() == [] and svc.jobs() == [] and svc.triggers() == []


def test_pipeline_webhook_and_environments_over_rest_and_the_remote_cli(
        server: Server, tmp_path: Path) -> None:
    svc = ShipService(MlShip(home=str(server.home), freeze_environment=False))
    work = tmp_path / "rest"
    tokens = [svc.ship_pipeline(pipeline_file(work, "relay", {"webhook": True}, x=x)
                                ).trigger_token for x in (1, 2)]
    token = tokens[0]
    assert token and tokens[1] is None
    for x in (1, 2):  # a job of two versions
        triggered("envjob", work, None, code="print('x is', x)", params=f"x = {x}")
        svc.ship(work / "envjob.ipynb")
    fired = post(server, token, {"trigger_file": "over-rest"})
    assert fired.status_code == 201, fired.text
    assert (fired.json()["target"], fired.json()["version"]) == ("pipeline", 2)
    auth = {"Authorization": f"token {TOKEN}"}
    api = f"{server.url}ml-ship/api/"
    listed = httpx.get(f"{api}triggers", headers=auth, timeout=30).json()["triggers"]
    assert {"job": "relay", "target": "pipeline", "kind": "webhook"}.items() <= next(
        t for t in listed if t["job"] == "relay").items()
    remote = cli_remote(server, "triggers", "--json", cwd=tmp_path)  # the remote CLI too
    assert remote.returncode == 0, remote.stderr
    assert ("relay", "pipeline") in {(t["job"], t["target"])
                                     for t in json.loads(remote.stdout)["triggers"]}
    gone = cli_remote(server, "triggers", "revoke", "relay", "--pipeline", cwd=tmp_path)
    assert gone.returncode == 0 and "pipeline relay: webhook revoked" in gone.stderr
    assert post(server, token, {}).status_code == 404
    anew = httpx.post(f"{api}pipelines/relay/trigger", headers=auth, timeout=30)
    assert anew.status_code == 201 and anew.json()["target"] == "pipeline"
    assert post(server, anew.json()["token"], {"trigger_file": "again"}).status_code == 201

    def run(path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(api + path, json=body, headers=auth, timeout=30)

    assert run("runs", {"job": "envjob", "environment": "staging"}).status_code == 404
    unknown = run("pipelines/relay/runs", {"environment": "qa"})
    assert unknown.status_code == 404 and "no environment named 'qa'" in unknown.text
    empty = run("pipelines/relay/runs", {"environment": "staging"})
    assert empty.status_code == 404 and "no version in staging" in empty.text
    promoted = run("pipelines/relay/versions/1/promote", {"to": "staging"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["environments"] == {"staging": 1, "production": 2}
    assert run("pipelines/relay/versions/1/promote", {"to": "qa"}).status_code == 404
    started = run("pipelines/relay/runs", {"environment": "staging"})
    assert started.status_code == 201 and started.json()["version"] == 1
    svc.promote("envjob", 1, to="staging")
    one = run("runs", {"job": "envjob", "environment": "staging"})
    assert one.status_code == 201 and one.json()["version"] == 1
    both = run("runs", {"job": "envjob", "environment": "staging", "version": 2})
    assert both.status_code == 409 and "staging is v1, not v2" in both.text

    remote = cli_remote(server, "pipeline", "run", "relay", "--env", "staging", "--wait",
                        cwd=tmp_path)
    assert remote.returncode == 0, remote.stderr
    assert "pipeline run" in remote.stderr and "succeeded" in remote.stderr
    last = svc.pipeline_runs("relay")[0][0]
    assert (last.version, last.status) == (1, "succeeded")
    listed = cli_remote(server, "pipeline", "runs", "--pipeline", "relay", cwd=tmp_path)
    assert listed.returncode == 0 and last.id in listed.stdout, listed.stderr
    versions = cli_remote(server, "pipeline", "versions", "relay", cwd=tmp_path)
    assert re.search(r"v1 .*staging", versions.stdout), versions.stdout + versions.stderr
    job = cli_remote(server, "run", "envjob", "--env", "staging", "--wait", cwd=tmp_path)
    assert job.returncode == 0, job.stderr
    assert "x is 1" in job.stdout
    assert svc.wait_pipeline_run(started.json()["id"], timeout=120).status == "succeeded"


def cli_remote(server: Server, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ML_SHIP, *args], env=server.env(), cwd=cwd, capture_output=True,
                          text=True, timeout=120)
