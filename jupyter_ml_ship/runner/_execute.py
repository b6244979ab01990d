"""Executing a run directory: attempts, timeout, cancel (SIGTERM), result.json."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import storage_error
from ..languages import PREAMBLE_TAG
from ..outputs import ARTIFACTS_ENV, parse_outputs
from ._files import atomic_write_json
from ._kernel import EarlyKernel, start_early
from ._mask import Masker, masker_for
from ._project import Project
from ._pump import OutputPump
from ._spark import add_session_cell, app_facts
from ._writes import reserve_space, save_output_through, write_result

INTERRUPT_GRACE = 5.0
#: children of the runner that are not its kernel (the output pump): never signalled
_SPARED: set[int] = set()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _say(msg: str) -> None:
    print(f"[ml-ship] {msg}", flush=True)


def _kernel_pids() -> list[int]:
    """Child processes of this runner (the kernel), found through /proc."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me and int(entry) not in _SPARED:
            found.append(int(entry))
    return found


def _signal_kernels(sig: int) -> None:
    for pid in _kernel_pids():
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


class _Attempt:
    """One papermill execution in a worker thread, stoppable from the main thread."""

    def __init__(self, run_dir: Path, spec: dict[str, Any], kernel: EarlyKernel | None,
                 cwd: Path):
        self.run_dir, self.spec, self.kernel, self.cwd = run_dir, spec, kernel, cwd
        self.error: BaseException | None = None
        self.nb: Any = None
        self.thread = threading.Thread(target=self._work, daemon=True)

    def _work(self) -> None:
        extra: dict[str, Any] = {}
        try:
            import papermill  # a broken runtime (an image) is a failed attempt, not a success

            from ..languages import register_translators

            register_translators()  # R: a list of numbers is injected as c(...)
            if self.kernel is not None:
                extra["km"] = self.kernel.manager()
            self.nb = papermill.execute_notebook(
                str(self.run_dir / "input.ipynb"),
                str(self.run_dir / "output.partial.ipynb"),
                parameters=self.spec.get("parameters") or {},
                kernel_name=self.spec.get("kernel_name") or None,
                progress_bar=False,
                log_output=False,
                stdout_file=sys.stdout,
                stderr_file=sys.stderr,
                cwd=str(self.cwd),
                start_timeout=self.spec.get("start_timeout", 60),
                **extra,
            )
        except BaseException as exc:  # reported as the attempt's outcome
            self.error = exc
        finally:
            if self.kernel is not None:
                self.kernel.stop()


def _describe(exc: BaseException) -> dict[str, Any]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return {
            "cell_index": exc.cell_index,
            "ename": exc.ename,
            "evalue": exc.evalue,
            "message": f"cell {exc.cell_index} raised {exc.ename}: {exc.evalue}",
        }
    full = storage_error(exc, what="saving the run's files")
    if full is not None:  # the output notebook could not be saved: no space left
        return {"ename": "InsufficientStorage", "evalue": full.message, "message": full.message}
    name = type(exc).__name__
    if name == "DeadKernelError":
        return {"ename": name, "evalue": str(exc), "message": f"the kernel died: {exc}"}
    return {"ename": name, "evalue": str(exc), "message": f"{name}: {exc}"}


def _error_cell(nb: dict[str, Any], fallback: int) -> int:
    """Index, in the output notebook as a user opens it, of the cell that raised."""
    for i, cell in enumerate(nb.get("cells", [])):
        if any(o.get("output_type") == "error" for o in cell.get("outputs") or []):
            return i
    return fallback


_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[@-~]")
# IPython 8: "Cell In[3], line 2"; older: "<ipython-input-3-…> in <module>" then "----> 2 "
_CELL_LINE_RE = re.compile(r"^Cell In\[[^\]]*\], line (\d+)", re.MULTILINE)
_ARROW_RE = re.compile(r"^-+> ?(\d+)", re.MULTILINE)


# cells papermill adds to the output notebook: not the user's
_PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag", PREAMBLE_TAG}


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _error_location(nb: dict[str, Any], index: int) -> dict[str, Any]:
    """Where the error is as the user knows the notebook: the cell's number (1-based, without
    the cells papermill added), its source, the failing line and the traceback."""
    cells = nb.get("cells", [])
    if not 0 <= index < len(cells):
        return {}
    cell = cells[index]
    injected = sum(1 for c in cells[:index] if _PAPERMILL_TAGS & set(c.get("metadata", {}).get("tags") or []))
    found: dict[str, Any] = {"cell_number": index - injected + 1,
                             "cell_source": _text(cell.get("source"))}
    for out in cell.get("outputs") or []:
        if out.get("output_type") == "error":
            traceback = "\n".join(out.get("traceback") or [])
            found["traceback"] = traceback
            plain = _ANSI_RE.sub("", traceback)
            match = _CELL_LINE_RE.search(plain) or _ARROW_RE.search(plain)
            if match:
                found["line"] = int(match.group(1))
            break
    return found


def _where(error: dict[str, Any]) -> str:
    number = error.get("cell_number", error.get("cell_index"))
    line = f", line {error['line']}" if error.get("line") else ""
    return f"cell {number}{line} raised {error['ename']}: {error['evalue']}"


class Runner:
    def __init__(self, run_dir: Path, pump: OutputPump | None = None):
        self.run_dir = run_dir = run_dir.resolve()
        self.spec: dict[str, Any] = json.loads((run_dir / "run.json").read_text())
        self.masker: Masker = pump.masker if pump is not None else masker_for(self.spec)
        self.pump = pump
        self.stop_reason: str | None = None  # "cancelled" or "timed_out"
        self.project = Project.of(run_dir, self.spec)
        if self.project is not None:  # `from src.x import …` with the project root above
            paths = [str(self.project.root), os.environ.get("PYTHONPATH", "")]
            os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        # where the kernel's record_data keeps its samples: among the files kept with the run
        os.environ[ARTIFACTS_ENV] = str(self.project.root if self.project else run_dir)

    @property
    def cwd(self) -> Path:
        return self.project.cwd if self.project is not None else self.run_dir

    def _on_term(self, signum: int, _frame: Any) -> None:
        self.stop_reason = self.stop_reason or "cancelled"

    def _write_state(self, **state: Any) -> None:
        # progress only (result.json, written durably, is the outcome): no fsync
        try:
            atomic_write_json(self.run_dir / "state.json", {"pid": os.getpid(), **state},
                              durable=False)
        except OSError:  # a full disk: the run goes on, and its result says why it failed
            pass

    def run(self) -> dict[str, Any]:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        max_attempts = max(1, int(self.spec.get("max_attempts") or 1))
        timeout = self.spec.get("timeout")
        started = _now()
        status, error, attempt = "failed", None, 0
        reserve_space(self.run_dir)
        save_output_through(self.run_dir / "output.partial.ipynb", self.masker)
        if self.project is not None:
            self.project.start()
        add_session_cell(self.run_dir, self.spec)  # metadata.ml_ship.spark: a ready `spark`
        for attempt in range(1, max_attempts + 1):
            self._write_state(phase="running", attempt=attempt, started_at=started)
            _say(
                f"run {self.spec.get('run_id', '?')}: {self.spec.get('job', '?')} "
                f"v{self.spec.get('version', '?')}, attempt {attempt}/{max_attempts}"
            )
            status, error = self._attempt(timeout)
            if status in ("succeeded", "cancelled") or attempt == max_attempts:
                break
            _say(f"attempt {attempt} {status}: {error['message'] if error else ''}; retrying")
        partial = self.run_dir / "output.partial.ipynb"
        outputs: dict[str, Any] = {}
        if partial.exists():
            try:
                executed = json.loads(partial.read_text())
                outputs = parse_outputs(executed)
                if error and error.get("cell_index") is not None:
                    error["cell_index"] = _error_cell(executed, error["cell_index"])
                    error.update(_error_location(executed, error["cell_index"]))
                    error["message"] = _where(error)
                if error and self.project is not None:  # the user's paths, not the copy's
                    for key in ("traceback", "evalue", "message"):
                        if isinstance(error.get(key), str):
                            error[key] = self.project.user_paths(error[key])
            except ValueError:
                pass
            os.replace(partial, self.run_dir / "output.ipynb")
        for name, value in outputs.items():
            _say(f"output {name} = {json.dumps(value)[:200]}")
        if self.project is not None:
            try:
                self.project.collect(self.run_dir, _say)
            except OSError as exc:  # the run's outcome stands; say what was not kept
                _say(f"the files the run wrote could not be kept: {exc}")
        result = {
            "status": status,
            "error": self.masker.value(error),
            "outputs": outputs,
            "attempts": attempt,
            "started_at": started,
            "ended_at": _now(),
        }
        spark = app_facts(self.run_dir) if self.spec.get("spark") else None
        if spark is not None:  # the application's id and UI link, for the run's record
            result["spark"] = spark
        # the last line before the result: a log follower stops reading once the run has ended
        _say(f"run {status}" + (f": {error['message']}" if error else ""))
        if self.pump is not None:
            self.pump.stop()  # every line in the log before the result says the run ended
        write_result(self.run_dir, result)
        return result

    def _attempt(self, timeout: float | None) -> tuple[str, dict[str, Any] | None]:
        extra = [str(self.project.root)] if self.project is not None else []
        kernel = start_early(self.run_dir, self.spec.get("kernel_name"), self.cwd, extra)
        job = _Attempt(self.run_dir, self.spec, kernel, self.cwd)
        job.thread.start()
        deadline = time.monotonic() + timeout if timeout else None
        interrupted_at: float | None = None
        while job.thread.is_alive():
            job.thread.join(0.05)
            if self.stop_reason is None and deadline and time.monotonic() > deadline:
                self.stop_reason = "timed_out"
                _say(f"timeout of {timeout:g} s reached: stopping the kernel")
            if self.stop_reason and interrupted_at is None:
                interrupted_at = time.monotonic()
                _signal_kernels(signal.SIGINT)
            elif interrupted_at and time.monotonic() - interrupted_at > INTERRUPT_GRACE:
                _signal_kernels(signal.SIGKILL)
                interrupted_at = time.monotonic() + 3600
        if self.stop_reason == "timed_out":
            reason = self.stop_reason
            self.stop_reason = None  # a retry gets a fresh deadline
            return reason, {"message": f"timed out after {timeout:g} s", "ename": "Timeout"}
        if self.stop_reason == "cancelled":
            return "cancelled", {"message": "cancelled", "ename": "Cancelled"}
        if job.error is not None:
            return "failed", _describe(job.error)
        return "succeeded", None


def execute_run_dir(run_dir: str | Path) -> dict[str, Any]:
    """Execute the run in ``run_dir`` and return what was written to ``result.json``."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)
    run_dir = Path(run_dir)
    spec = json.loads((run_dir / "run.json").read_text())
    pump = OutputPump(masker_for(spec)).start()  # the run's output, masked, to the log
    if pump.pid is not None:
        _SPARED.add(pump.pid)
    try:
        return Runner(run_dir, pump).run()
    finally:
        pump.stop()
