"""Issue #26, pipeline scheduling overhead: what a chain's next step no longer waits for.

- the follow-up of a step's end (promotion, listeners: server events, after-triggers) comes
  after the steps that end made ready have started;
- the warm runner hands a run to a child forked ahead of the request (no fork on the way);
- its check for preloaded modules changed on disk reads an inotify queue (no stat walk);
- the scheduler sleeps until a step's ``result.json`` appears (inotify), instead of polling.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from jupyter_ml_ship.core.engine._watch import ResultWatch
from jupyter_ml_ship.runner._changes import ModuleChanges
from jupyter_ml_ship.store import Run
from tests.python.test_warm import wait_until, warm  # noqa: F401 - warm: the fixture

RECORD = "from jupyter_ml_ship import record\nrecord('i', i)"


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.add(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def test_a_chain_starts_its_next_step_before_telling_listeners_the_last_one_ended(
        svc, nb, warm, tmp_path):
    nb("step.ipynb", RECORD, params="i = 0")
    pipeline = tmp_path / "work" / "chain.pipeline.yaml"
    pipeline.write_text("name: chain\nsteps:\n  a:\n    notebook: step.ipynb\n"
                        "    parameters: {i: 1}\n  b:\n    notebook: step.ipynb\n"
                        "    depends_on: [a]\n    parameters: {i: 2}\n")
    svc.ship_pipeline(pipeline)
    seen: dict[str, bool] = {}

    def listener(info):
        if info.step == "a" and info.status == "succeeded":
            with svc.store.session() as s:  # was b's run already started when a's end was told?
                seen["b started"] = s.query(Run).filter(
                    Run.pipeline_run_id == info.pipeline_run_id, Run.step == "b",
                    Run.status != "queued").count() == 1

    svc.subscribe(listener)
    started = svc.run_pipeline("chain", use_cache=False, detach=False)
    info = svc.drive_pipeline_run(started.id, timeout=120)
    assert info.status == "succeeded", info.error
    assert [s.outputs["i"] for s in info.steps] == [1, 2]
    assert seen == {"b started": True}


def test_the_warm_runner_hands_a_run_to_a_child_forked_before_it_was_asked(svc, nb, warm):
    assert wait_until(lambda: len(children(warm)) == 1, 30), children(warm)  # the spare
    spare = children(warm).pop()
    svc.ship(nb("one.ipynb", RECORD, params="i = 7"))
    run = svc.run("one")
    with svc.store.session() as s:
        ref = s.get(Run, run.id).backend_ref
    assert ref["warm"] is True and ref["pid"] == spare
    info = svc.wait(run.id, 120)
    assert info.status == "succeeded" and info.outputs == {"i": 7}
    # a new spare waits for the next run; the server's stop ends it too
    assert wait_until(lambda: len(children(warm) - {spare}) == 1, 30)
    nxt = (children(warm) - {spare}).pop()
    svc.stop_warm_runner()
    assert wait_until(lambda: not Path(f"/proc/{nxt}").exists()
                      or "Z" in Path(f"/proc/{nxt}/stat").read_text().rsplit(")", 1)[1][:3], 30)


def test_a_change_to_a_preloaded_file_is_seen_without_walking_the_files(tmp_path):
    module, other = tmp_path / "mod.py", tmp_path / "other.py"
    module.write_text("x = 1\n")
    other.write_text("")
    changes = ModuleChanges({str(module): module.stat().st_mtime})
    assert changes.watching  # Linux: inotify
    assert changes.changed() is None
    other.write_text("y = 2\n")  # a file that was not preloaded
    st = module.stat()
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))  # an event, the same mtime
    assert changes.changed() is None
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # "upgraded"
    assert changes.changed() == str(module)
    removed = ModuleChanges({str(other): other.stat().st_mtime})
    other.unlink()
    assert removed.changed() == str(other)
    changes.close()
    removed.close()


def test_the_scheduler_wakes_when_a_result_is_renamed_into_a_run_folder(tmp_path):
    """A runner writes ``result.json`` by a rename: the wait ends with that run at once (no
    poll interval), an ended run already there is seen before any wait, a wait with nothing
    ending ends at its deadline, and ``stop()`` ends it."""
    a, b = tmp_path / "runs" / "a", tmp_path / "runs" / "b"
    a.mkdir(parents=True)
    b.mkdir()
    files = {"a": a / "result.json", "b": b / "result.json"}
    watch = ResultWatch()
    try:
        assert watch._fd is not None, "inotify on Linux"
        start = time.monotonic()
        assert watch.wait(files, start + 0.05) == set()
        assert time.monotonic() - start >= 0.05

        def runner() -> None:  # the runner's atomic write, a while after the scheduler sleeps
            time.sleep(0.2)
            (b / "result.json.tmp").write_text("{}")
            os.replace(b / "result.json.tmp", b / "result.json")

        thread = threading.Thread(target=runner)
        thread.start()
        try:
            assert watch.wait(files, time.monotonic() + 30) == {"b"}
            assert (b / "result.json").read_text() == "{}"
        finally:
            thread.join()
        assert watch.wait(files, time.monotonic() + 30) == {"b"}  # already there: at once
        del files["b"]
        assert watch.wait(files, time.monotonic() + 30, stop=lambda: True) is None
        assert watch._folders.keys() == {str(a)}  # the ended run's folder is not watched
    finally:
        watch.close()
