"""What follows a run's end, and holding it back while a pipeline pass starts the next steps.

A run's end is recorded at once (status, outputs, checks: ``JobRunsMixin._finish``); what
follows it — promotion and ``rollback_on`` (``core.promotion``), then the listeners (server
events, after-triggers) with the run's info — is ``_run_ended``. Inside
``after_runs_deferred()`` that follow-up waits for the block's end: a pipeline pass
(``core.engine.executor.step_pass``) records its steps' ends, starts the steps they made ready,
and only then does the rest, so a chain's next step does not wait for it (issue #26). The
deferral is per thread: the Jupyter server calls one service from several.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ._base import _ServiceBase


class RunEndsMixin(_ServiceBase):
    def _pending_ends(self) -> threading.local:
        return self.__dict__.setdefault("_run_ends_local", threading.local())  # type: ignore[no-any-return]

    def _run_ended(self, run_id: str) -> None:
        """Promotion, rollback_on and the listeners of a run that ended (now, or at the end
        of the ``after_runs_deferred`` block this thread is in)."""
        pending = getattr(self._pending_ends(), "runs", None)
        if pending is not None:
            pending.append(run_id)
            return
        self.after_run_ended(run_id)  # promotion, rollback_on (core.promotion)
        self._notify(self.get_run(run_id, reconcile=False))

    @contextmanager
    def after_runs_deferred(self) -> Iterator[None]:
        """Runs ending inside: recorded at once, their follow-up done when the block ends."""
        local = self._pending_ends()
        if getattr(local, "runs", None) is not None:  # nested: the outer block does it
            yield
            return
        local.runs = []
        try:
            yield
        finally:
            ended, local.runs = local.runs, None
            for run_id in dict.fromkeys(ended):
                self._run_ended(run_id)
