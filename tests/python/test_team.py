"""Team mode in core: owners, groups, run_by: team, admins, the audit trail, runs for the agent.

No server here (tests/python/test_hub.py runs a real JupyterHub); an ``Actor`` is what a face
builds from the hub's identity.
"""

from __future__ import annotations

import pytest

from jupyter_ml_ship.core import ShipService
from jupyter_ml_ship.core.access import Actor
from jupyter_ml_ship.errors import BackendUnavailable, BadInput, Forbidden

ADA = Actor.of("ada", ["data"])
GRACE = Actor.of("grace", ["ops"])
ADMIN = Actor.of("root", admin=True)


def test_only_owners_ship_roll_back_and_delete_and_the_refusal_says_who_may(svc, nb):
    path = nb("churn.ipynb", "print(1)")
    assert svc.ship(path, actor=ADA).job.owner == "ada"
    nb("churn.ipynb", "print(2)")
    with pytest.raises(Forbidden, match="grace may not ship a new version of job churn: only "
                                        "its owner ada or an ml-ship admin may"):
        svc.ship(path, actor=GRACE)
    assert svc.ship(path, actor=ADA).version.number == 2
    with pytest.raises(Forbidden, match="may not roll back"):
        svc.rollback("churn", 1, actor=GRACE)
    with pytest.raises(Forbidden, match="may not run job churn.*run_by is 'team'"):
        svc.run("churn", actor=GRACE)
    with pytest.raises(Forbidden, match="may not delete"):
        svc.delete_job("churn", actor=GRACE)
    assert svc.rollback("churn", 1, actor=ADMIN).current_version == 1
    perms = svc.job("churn", actor=GRACE).permissions
    assert not perms.rollback.allowed and "only its owner ada" in perms.rollback.reason
    assert svc.job("churn", actor=ADA).permissions.rollback.allowed
    assert svc.job("churn").permissions.delete.allowed  # single-user mode: everything


def test_run_by_team_lets_others_run_and_cancel_their_own_runs_only(svc, nb):
    path = nb("nightly.ipynb", "import time\ntime.sleep(30)",
              metadata={"ml_ship": {"run_by": "team"}})
    svc.ship(path, actor=ADA)
    info = svc.job("nightly", actor=GRACE)
    assert info.run_by == "team" and info.permissions.run.allowed
    assert not info.permissions.rollback.allowed
    mine = svc.run("nightly", actor=GRACE)
    assert mine.started_by == "grace"
    theirs = svc.run("nightly", actor=ADA)
    with pytest.raises(Forbidden):
        svc.cancel(theirs.id, actor=GRACE)
    assert svc.cancel(mine.id, actor=GRACE).error.message == "cancelled by grace"
    assert svc.cancel(theirs.id, actor=ADA).status == "cancelled"


def test_owner_groups_share_a_job_and_unknown_groups_are_refused(svc, nb):
    path = nb("shared.ipynb", "print(1)", metadata={"ml_ship": {"owners": ["ops"]}})
    known = Actor.of("ada", ["data"], known_groups=["data", "ops"])
    svc.ship(path, actor=known)
    assert svc.job("shared").owners == ["ops"]
    nb("shared.ipynb", "print(2)", metadata={"ml_ship": {"owners": ["ops"]}})
    assert svc.ship(path, actor=GRACE).version.number == 2  # grace is in ops
    bad = nb("typo.ipynb", "print(1)", metadata={"ml_ship": {"owners": ["opps"]}})
    with pytest.raises(BadInput, match="owners: no JupyterHub group named 'opps'"):
        svc.ship(bad, actor=known)
    assert [j.name for j in svc.jobs()] == ["shared"]  # nothing recorded
    with pytest.raises(BadInput, match="run_by"):
        svc.ship(nb("x.ipynb", "1", metadata={"ml_ship": {"run_by": "everyone"}}), actor=ADA)


def test_the_audit_trail_lists_every_action_with_its_user(svc, nb):
    path = nb("audited.ipynb", "print(1)", metadata={"ml_ship": {"run_by": "team"}})
    svc.ship(path, actor=ADA)
    nb("audited.ipynb", "print(2)", metadata={"ml_ship": {"run_by": "team"}})
    svc.ship(path, actor=ADA)
    run = svc.wait(svc.run("audited", actor=GRACE).id, 120)
    svc.rollback("audited", 1, actor=ADMIN)
    events = svc.audit_trail("audited").events
    assert [(e.kind, e.actor) for e in events] == [
        ("rollback", "root"), ("run", "grace"), ("ship", "ada"), ("ship", "ada")]
    assert events[1].data["run_id"] == run.id and events[0].data == {"from": 2, "to": 1}


def test_team_mode_records_runs_for_the_agent_and_refuses_with_no_agent(settings, nb):
    settings.team_mode = True
    user = ShipService(settings, actor=ADA)
    user.ship(nb("queued.ipynb", "print('started by the agent')"))
    with pytest.raises(BackendUnavailable, match="no ml-ship agent is running"):
        user.run("queued")
    assert user.runs(job="queued")[0] == []  # nothing half-way
    agent = ShipService(settings)
    agent.ticker = "agent"
    assert agent.acquire_lease("test-agent")
    queued = user.run("queued")
    assert queued.status == "queued" and queued.started_by == "ada"
    other = ShipService(settings)  # a second agent process racing for it
    other.ticker = "agent"
    assert user.get_run(queued.id).status == "queued"  # a user server does not fail it
    assert agent.tick().started == [queued.id]
    assert other.start_queued_runs() == []  # claimed once
    done = agent.wait(queued.id, 120)
    assert done.status == "succeeded", agent.read_log(done.id)[0]
    assert b"started by the agent" in agent.read_log(done.id)[0]
    assert user.audit_trail("queued").events[0].data["queued_for"] == "agent"
    agent.release_lease("test-agent")
    for s in (user, agent, other):
        s.close()


PIPELINE = """
name: nightly
{extra}
steps:
  prep:
    notebook: prep.ipynb
  train:
    notebook: train.ipynb
    depends_on: [prep]
"""


def pipeline_file(nb, extra: str, run_by: str | None = None):
    meta = {"metadata": {"ml_ship": {"run_by": run_by}}} if run_by else {}
    nb("prep.ipynb", "print('prep')", **meta)
    path = nb("train.ipynb", "print('train')", **meta).with_name("nightly.pipeline.yaml")
    path.write_text(PIPELINE.format(extra=extra))
    return path


def test_a_pipeline_that_says_run_by_team_is_run_by_the_team_as_a_whole(svc, nb):
    path = pipeline_file(nb, "run_by: team")
    svc.ship_pipeline(path, actor=ADA)
    seen = svc.pipeline("nightly", actor=GRACE)
    assert seen.owner == "ada" and seen.run_by == "team"
    assert seen.permissions.run.allowed and not seen.permissions.rollback.allowed
    with pytest.raises(Forbidden, match="grace may not run job prep"):
        svc.run("prep", actor=GRACE)  # its step's job on its own: still only ada's
    started = svc.run_pipeline("nightly", actor=GRACE)
    assert started.started_by == "grace"
    done = svc.wait_pipeline_run(started.id, 240)
    assert done.status == "succeeded", done.error
    assert [st.status for st in done.steps] == ["succeeded", "succeeded"]
    assert ("pipeline-run", "grace") in [(e.kind, e.actor) for e in
                                         svc.audit_trail("nightly").events]

    # the file's run_by: owners wins over steps whose jobs the team may run
    path = pipeline_file(nb, "run_by: owners", run_by="team")
    assert svc.ship_pipeline(path, actor=ADA).version.number == 2
    assert svc.job("prep", actor=GRACE).permissions.run.allowed
    seen = svc.pipeline("nightly", actor=GRACE)
    assert seen.run_by == "owners"
    assert seen.permissions.run.reason == (
        "grace may not run pipeline nightly: only its owner ada may, unless its pipeline "
        "file's run_by is 'team' (or an ml-ship admin)")
    with pytest.raises(Forbidden, match="grace may not run pipeline nightly: only its owner"):
        svc.run_pipeline("nightly", actor=GRACE)

    # without run_by: the team may run it when every step's job says run_by: team
    path.write_text(PIPELINE.format(extra=""))
    svc.ship_pipeline(path, actor=ADA)
    assert svc.pipeline("nightly", actor=GRACE).permissions.run.allowed

    # a pipeline of one's own cannot take in a job one may not run
    rollback = svc.rollback("prep", 1, actor=ADA)  # prep v1: only its owners may run it
    assert rollback.run_by == "owners"
    theirs = path.with_name("grace.pipeline.yaml")
    theirs.write_text("name: mine\nsteps:\n  p:\n    job: prep\n")
    with pytest.raises(Forbidden, match=r"grace.pipeline.yaml, line 4: steps.p.job: grace may "
                                        "not run job prep"):
        svc.ship_pipeline(theirs, actor=GRACE)
    assert [p.name for p in svc.pipelines()] == ["nightly"]


def test_anyone_may_ship_a_pipeline_file_as_it_is_but_only_owners_change_it(svc, nb):
    # the lab's Run pipeline ships the file it shows first: for grace, on ada's pipeline with
    # run_by: team, that must not need the right to change it
    path = pipeline_file(nb, "run_by: team")
    assert svc.ship_pipeline(path, actor=ADA).created
    again = svc.ship_pipeline(path, actor=GRACE)
    assert (again.created, again.version.number) == (False, 1)
    assert svc.run_pipeline("nightly", again.version.number, actor=GRACE).started_by == "grace"

    path.write_text(PIPELINE.format(extra="run_by: team\nparameters: {day: '2024-01-01'}"))
    with pytest.raises(Forbidden, match="grace may not ship a new version of pipeline nightly: "
                                        "only its owner ada or an ml-ship admin may"):
        svc.ship_pipeline(path, actor=GRACE)
    assert [v.number for v in svc.pipeline_versions("nightly")] == [1]  # nothing recorded
    assert [e.kind for e in svc.audit_trail("nightly").events].count("pipeline-ship") == 1
    nb("prep.ipynb", "print('prep, by grace')")  # a step's notebook: its job's own rule
    with pytest.raises(Forbidden, match="grace may not ship a new version of job prep"):
        svc.ship_pipeline(path, actor=GRACE)
    assert [v.number for v in svc.versions("prep")] == [1]


def test_a_pipeline_s_owner_groups_ship_roll_back_and_delete_it(svc, nb):
    known = Actor.of("ada", ["data"], known_groups=["data", "ops"])
    path = pipeline_file(nb, "owners: [opps]")
    with pytest.raises(BadInput, match=r"nightly.pipeline.yaml, line 3: owners: no JupyterHub "
                                       r"group named 'opps' \(groups: data, ops\)"):
        svc.ship_pipeline(path, actor=known)
    assert svc.pipelines() == [] and svc.jobs() == []  # nothing shipped
    path.write_text(PIPELINE.format(extra="owners: [ops]"))
    first = svc.ship_pipeline(path, actor=known).pipeline
    assert (first.owner, first.owners, first.run_by) == ("ada", ["ops"], "owners")

    hopper = Actor.of("hopper", ["data"])  # in no owner group
    path.write_text(PIPELINE.format(extra="owners: [ops]\nparameters: {day: '2024-01-01'}"))
    with pytest.raises(Forbidden, match="hopper may not ship a new version of pipeline nightly: "
                                        "only its owner ada or the group ops or an ml-ship admin"):
        svc.ship_pipeline(path, actor=hopper)
    second = svc.ship_pipeline(path, actor=GRACE)  # grace is in ops; the notebooks unchanged
    assert second.created and second.version.number == 2 and second.version.author == "grace"
    assert [v.number for v in svc.versions("prep")] == [1]  # its jobs: no new version
    assert svc.pipeline("nightly", actor=GRACE).permissions.delete.allowed
    with pytest.raises(Forbidden, match="hopper may not roll back pipeline nightly"):
        svc.rollback_pipeline("nightly", 1, actor=hopper)
    assert svc.rollback_pipeline("nightly", 1, actor=GRACE).current_version == 1
    with pytest.raises(Forbidden, match="hopper may not delete pipeline nightly"):
        svc.delete_pipeline("nightly", actor=hopper)
    svc.delete_pipeline("nightly", actor=GRACE)
    assert svc.pipelines() == []

    path.write_text(PIPELINE.format(extra="run_by: everyone"))
    with pytest.raises(BadInput, match=r"nightly.pipeline.yaml, line 3: run_by: 'owners' or "
                                       r"'team', got 'everyone'"):
        svc.ship_pipeline(path, actor=ADA)
    path.write_text(PIPELINE.format(extra="owners: {ops: yes}"))
    with pytest.raises(BadInput, match=r"line 3: owners: a list of JupyterHub group names"):
        svc.ship_pipeline(path)  # single-user mode checks the file too


def test_the_jobs_listing_says_for_each_job_what_its_own_page_says(svc, nb):
    # the listing reads all jobs in a few queries: the same facts as one job's page
    svc.ship(nb("a.ipynb", "print(1)", metadata={"ml_ship": {"run_by": "team"}}), actor=ADA)
    svc.ship(nb("a.ipynb", "print(2)"), actor=ADA)  # v2: owners only again
    svc.rollback("a", 1, actor=ADA)
    svc.ship(nb("b.ipynb", "print(3)", metadata={"ml_ship": {"owners": ["ops"]}}), actor=ADA)
    svc.ship(nb("c.ipynb", "print(4)"), actor=GRACE)
    run = svc.wait(svc.run("b", actor=GRACE).id, 120)
    listed = svc.jobs(actor=GRACE)
    assert [j.name for j in listed] == ["a", "b", "c"]
    assert listed == [svc.job(name, actor=GRACE) for name in ("a", "b", "c")]
    a, b, c = listed
    assert (a.current_version, a.latest_version, a.run_by) == (1, 2, "team")
    assert b.owners == ["ops"] and b.last_run.id == run.id and b.permissions.delete.allowed
    assert c.last_run is None and c.owner == "grace"
