"""One Airflow task instance into one run directory: ``log.txt``, ``state.json``, ``result.json``.

The same files the runner leaves on the other backends, so the service reconciles an Airflow run
like any other. Task logs come from the API (every try, appended as they grow); the outputs
come from the task's XCom; with shared artifacts on this machine the output notebook and the
runner's own ``result.json`` (its error with the failing cell) are copied too. Safe from several
processes: one syncs a run directory at a time (``airflow.lock``).
"""

from __future__ import annotations

import re
import shutil
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ...store.files import atomic_write_json, read_json, try_lock
from .client import TI_DONE, AirflowClient

#: our record of a run's Airflow side: its task, log progress, states seen
STATE = "airflow.json"
LOCK = "airflow.lock"
#: task instance states in which the task is (about to be) executing
TI_RUNNING = frozenset({"running", "up_for_retry", "up_for_reschedule", "restarting", "deferred"})
_FAILED_LINE = re.compile(r"\[ml-ship\] run (failed|timed_out|cancelled): (?P<message>.*)")
#: seconds an ended task's log must stay the same before the run ends, and the longest wait
SETTLE = 1.5
SETTLE_MAX = 20.0
_CELL = re.compile(r"cell (?P<cell>\d+) raised (?P<ename>[\w.]+): (?P<evalue>.*)", re.S)


def sync_lock(run_dir: Path) -> AbstractContextManager[bool]:
    """Whether this process may sync the run directory now (never waits)."""
    return try_lock(run_dir / LOCK)


def log_line(event: dict[str, Any]) -> str | None:
    """A structured Airflow log event as a line of our log, or None for Airflow's routine.

    The operator's lines (the container's output, as the notebook printed it) are kept as they
    are; Airflow's own lines only from warnings up, marked ``[airflow]``.
    """
    text = str(event.get("event") or "")
    if not event.get("timestamp") or text.startswith("::"):
        return None  # "::group::" markers and the log's source details
    if ".operators." in str(event.get("logger") or ""):
        return text
    level = str(event.get("level") or "info").lower()
    if level in ("info", "debug"):
        return None
    line = f"[airflow] {level.upper()}: {text}"
    for detail in event.get("error_detail") or []:
        if isinstance(detail, dict) and detail.get("exc_type"):
            line += f"\n[airflow] {detail['exc_type']}: {detail.get('exc_value', '')}"
    return line


def new_events(events: list[dict[str, Any]], seen: dict[str, Any]) -> list[dict[str, Any]]:
    """Events after those already written (``seen``: the last timestamp written and how many
    events carried it), in order; ``seen`` is updated. Airflow serves a try's whole log each
    time, merged from its sources in timestamp order, so a count alone is not enough."""
    last, count = str(seen.get("ts") or ""), int(seen.get("n") or 0)
    fresh: list[dict[str, Any]] = []
    at_last = 0
    for e in events:
        ts = str(e.get("timestamp") or "")
        if not ts or ts < last:
            continue
        if ts == last:
            at_last += 1
            if at_last <= count:
                continue
        fresh.append(e)
    for e in fresh:
        ts = str(e["timestamp"])
        count = count + 1 if ts == last else 1
        last = ts
    seen.update(ts=last, n=count)
    return fresh


def _append(run_dir: Path, lines: list[str]) -> None:
    if lines:
        with open(run_dir / "log.txt", "a", encoding="utf-8") as fh:
            fh.write("".join(line.rstrip("\n") + "\n" for line in lines))


def sync_logs(client: AirflowClient, ref: dict[str, Any], run_dir: Path, state: dict[str, Any],
              ti: dict[str, Any]) -> int:
    """Append what each try logged since the last sync (earlier tries are finished first).

    Returns how many events the last try's log has now.
    """
    tries = int(ti.get("try_number") or 0)
    if tries < 1:
        return 0
    events: list[dict[str, Any]] = []
    written: dict[str, dict[str, Any]] = state.setdefault("written", {})
    for t in range(int(state.get("log_try") or 1), tries + 1):
        events = client.log_events(ref["dag_id"], ref["dag_run_id"], ref["task_id"], t)
        seen = written.setdefault(str(t), {})
        lines = [x for x in (log_line(e) for e in new_events(events, seen)) if x is not None]
        if lines and not seen.get("header"):
            host = (ti.get("hostname") if t == tries else None) or "a worker"
            lines.insert(0, f"[ml-ship] Airflow task {ref['task_id']} of {ref['dag_id']}, "
                            f"try {t}, on {host}")
            seen["header"] = True
        _append(run_dir, lines)
        if t < tries:
            state["log_try"] = t + 1
    return len(events)


def log_settled(state: dict[str, Any], size: int) -> bool:
    """Whether an ended task's log is complete: a worker pushes the last lines after the task
    ended, so the log must stop growing for ``SETTLE`` seconds (at most ``SETTLE_MAX``)."""
    now = time.time()
    seen = state.setdefault("settle", {"first": now, "size": -1, "at": now})
    if size != seen["size"]:
        seen.update(size=size, at=now)
    return now - seen["at"] >= SETTLE or now - seen["first"] >= SETTLE_MAX


def _error_from_log(run_dir: Path, ref: dict[str, Any], tries: int) -> dict[str, Any]:
    """The runner's own failure line when the log has it, else Airflow's last error."""
    try:
        lines = (run_dir / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    for line in reversed(lines):
        m = _FAILED_LINE.search(line)
        if m:
            message = m["message"].strip()
            cell = _CELL.match(message)
            if cell:
                return {"cell_index": int(cell["cell"]), "ename": cell["ename"],
                        "evalue": cell["evalue"], "message": message}
            return {"ename": "RunFailed", "message": message}
    last = next((ln for ln in reversed(lines) if "ERROR" in ln or "CRITICAL" in ln), "")
    why = f": {last.removeprefix('[airflow] ')}" if last else "; see the log"
    return {"ename": "AirflowTaskFailed",
            "message": f"Airflow task {ref['task_id']} failed (try {tries}){why}"}


def _artifact_dir(artifacts: str, ref: dict[str, Any]) -> Path | None:
    if not artifacts:
        return None
    d = Path(artifacts) / ref["dag_id"] / ref["dag_run_id"] / ref["task_id"]
    return d if d.is_dir() else None


def finish(client: AirflowClient, ref: dict[str, Any], run_dir: Path, state: dict[str, Any],
           ti: dict[str, Any], artifacts: str = "") -> None:
    """Write ``result.json`` for a task instance that ended."""
    tries = int(ti.get("try_number") or 0)
    status = {"success": "succeeded", "skipped": "cancelled"}.get(ti.get("state") or "", "failed")
    shared = _artifact_dir(artifacts, ref)
    runner = (read_json(shared / "result.json") if shared else None) or {}
    if shared and (shared / "output.ipynb").is_file():
        shutil.copyfile(shared / "output.ipynb", run_dir / "output.ipynb")
    if shared and (shared / "artifacts.json").is_file():  # the files the task wrote
        if (shared / "project").is_dir():
            shutil.copytree(shared / "project", run_dir / "project", dirs_exist_ok=True,
                            symlinks=True)
        shutil.copyfile(shared / "artifacts.json", run_dir / "artifacts.json")
    error = None
    if status == "failed":
        if ti.get("state") == "upstream_failed":
            error = {"ename": "UpstreamFailed", "message": "an upstream task failed in Airflow"}
        else:
            error = runner.get("error") or _error_from_log(run_dir, ref, tries)
    elif status == "cancelled":
        error = {"ename": "Skipped", "message": "Airflow skipped the task"}
    outputs = client.outputs(ref["dag_id"], ref["dag_run_id"], ref["task_id"]) \
        if status == "succeeded" else {}
    atomic_write_json(run_dir / "result.json", {
        "status": status, "error": error, "outputs": outputs or runner.get("outputs") or {},
        "attempts": max(tries, 1), "started_at": state.get("started_at") or ti.get("start_date"),
        "ended_at": ti.get("end_date"),
    })


def sync_task(client: AirflowClient, ref: dict[str, Any], run_dir: Path,
              ti: dict[str, Any] | None = None, artifacts: str = "") -> dict[str, Any]:
    """Bring a task instance's log, phase and (when it ended) result into ``run_dir``.

    Returns our record of it (``airflow.json``): ``ti_state`` is the last state seen.
    """
    with sync_lock(run_dir) as mine:
        state: dict[str, Any] = read_json(run_dir / STATE) or {}
        if not mine or (run_dir / "result.json").exists():
            return state
        if ti is None:
            ti = client.task_instances(ref["dag_id"], ref["dag_run_id"]).get(ref["task_id"])
        if ti is None:
            return state
        size = sync_logs(client, ref, run_dir, state, ti)
        ti_state = ti.get("state")
        if ti.get("start_date") and not state.get("started_at"):
            state["started_at"] = ti["start_date"]
        if ti_state in TI_RUNNING:
            # started_at of this try: the service's own timeout check counts from it
            atomic_write_json(run_dir / "state.json", {
                "phase": "running", "attempt": int(ti.get("try_number") or 1),
                "started_at": ti.get("start_date") or state.get("started_at")})
        if ti_state in TI_DONE and log_settled(state, size):
            state["ti_state"] = ti_state
            finish(client, ref, run_dir, state, ti, artifacts)
        elif ti_state not in TI_DONE:
            state["ti_state"] = ti_state
        atomic_write_json(run_dir / STATE, state)
        return state
