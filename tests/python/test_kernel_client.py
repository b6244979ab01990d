"""The runner's kernel client: ready as soon as the kernel answers, and no output lost for it."""

from __future__ import annotations

import asyncio
import json
import time

from jupyter_ml_ship.runner import _kernel, _warm


def test_a_kernel_that_answers_is_ready_without_a_fixed_wait(tmp_path):
    """jupyter_client's own ``wait_for_ready`` ends by waiting for 0.2 s of IOPub silence, every
    time: more than a trivial run's whole execution. Ours returns when the kernel has answered."""
    kernel = _kernel.EarlyKernel(tmp_path)  # a new process: FORK_KERNELS is off in the tests

    async def measure() -> list[float]:
        kc = kernel.manager().client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)  # the kernel is still starting: may take a while
            times = []
            for _ in range(5):
                start = time.perf_counter()
                await kc.wait_for_ready(timeout=60)
                times.append(time.perf_counter() - start)
            reply = await kc.execute_interactive("import os; print(os.getcwd())", timeout=30)
            assert reply["content"]["status"] == "ok"
            return times
        finally:
            kc.stop_channels()

    try:
        times = asyncio.run(measure())
    finally:
        kernel.stop()
    assert min(times) < 0.15, times
    assert not list(tmp_path.glob(".kernel-*")), "the kernel's sockets and connection file remain"


def test_the_first_line_of_the_first_cell_is_in_log_and_output_on_every_run(svc, nb):
    """Readiness is a kernel_info reply and a message on IOPub: the IOPub subscription is live
    before the first cell runs, so what it prints at once is never lost (warm and cold runs)."""
    svc.ship(nb("first.ipynb", "print('first line', flush=True)", "print('second line')"))
    assert svc.prewarm()
    assert _warm.wait_ready(svc.settings, 60)
    ids = [svc.run("first").id for _ in range(6)]
    svc.stop_warm_runner()
    ids += [svc.run("first").id for _ in range(2)]  # cold: a new runner and kernel process
    for run_id in ids:
        info = svc.wait(run_id, 120)
        assert info.status == "succeeded", info.error
        log = svc.read_log(run_id)[0].decode()
        assert "first line" in log and "second line" in log, log
        out = json.loads(svc.output_path(run_id).read_text())
        texts = ["".join(o.get("text", "")) for c in out["cells"] for o in c.get("outputs", [])]
        assert texts == ["first line\n", "second line\n"], texts


def test_the_log_is_complete_when_the_result_is_written(tmp_path, nb, capfd, monkeypatch):
    """Log followers (the lab's log view, ``ml-ship logs -f``) stop reading once the run has a
    result: every line the runner says, its last one included, is written before it."""
    from jupyter_ml_ship.runner import _execute, _writes
    from jupyter_ml_ship.runner._prepare import prepare_run_dir

    run_dir = tmp_path / "run"
    prepare_run_dir(run_dir, nb("last.ipynb", "print('from the notebook')"), {}, job="last")
    written_before_result: list[str] = []
    atomic_write_json = _writes.atomic_write_json  # what writes result.json

    def recording(path, data, **kw):
        if path.name == "result.json":
            written_before_result.append(capfd.readouterr().out)
        return atomic_write_json(path, data, **kw)

    monkeypatch.setattr(_writes, "atomic_write_json", recording)
    result = _execute.execute_run_dir(run_dir)
    assert result["status"] == "succeeded", result
    log = "".join(written_before_result) + capfd.readouterr().out
    assert written_before_result and "from the notebook" in written_before_result[0]
    assert written_before_result[0].rstrip().endswith("[ml-ship] run succeeded"), log
