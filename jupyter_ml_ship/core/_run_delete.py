"""Deleting one run: its record, its folder (log, input and output notebooks, artifacts) and
what refers to it; the job, its versions and its other runs stay as they are."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, update

from ..errors import Conflict, NotFound
from ..models import TERMINAL_STATUSES
from ..store import Run
from ..store.schema import Delivery, DeliveryMark, PipelineRun, PipelineStep
from ._base import _ServiceBase
from .access import Actor, check, whoami


class RunDeleteMixin(_ServiceBase):
    if TYPE_CHECKING:
        def reconcile(self, run_id: str) -> None: ...

    def delete_run(self, run_id: str, actor: Actor | None = None) -> None:
        """Delete an ended run. An active run is refused (cancel it first), and so is a step
        of a pipeline run still going (its downstream steps may read the step's files). In
        team mode the actor needs the job's "delete" permission; the audit trail records it.
        A pipeline step that ran it keeps its recorded outputs but is no longer a cache hit."""
        actor = self._actor(actor)
        self.reconcile(run_id)  # the status as of now (NotFound for no such run)
        with self.store.session() as s:
            row = s.get(Run, run_id)
            if row is None:  # deleted meanwhile
                raise NotFound(f"no run with id {run_id!r}")
            job_name, status, version = row.job.name, row.status, row.version_number
            check(actor, "delete", self._ownership(s, row.job))
            if status not in TERMINAL_STATUSES:
                raise Conflict(f"run {run_id} is {status}: cancel it first, then delete it")
            if row.pipeline_run_id:
                owner = s.get(PipelineRun, row.pipeline_run_id)
                if owner is not None and owner.status not in TERMINAL_STATUSES:
                    raise Conflict(f"run {run_id} is step {row.step!r} of pipeline run "
                                   f"{owner.id}, which is {owner.status}: cancel the pipeline "
                                   "run or let it end first")
            run_dir = self._own_run_dir(run_id, row.run_dir)
            s.execute(update(PipelineStep).where(PipelineStep.run_id == run_id)
                      .values(cache_key=None))
            s.execute(delete(Delivery).where(Delivery.subject == run_id,
                                             Delivery.subject_kind == "run"))
            s.execute(delete(DeliveryMark).where(DeliveryMark.subject == run_id))
            s.delete(row)
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
        self._audit(job_name, "delete-run", actor.name if actor else whoami(),
                    {"run_id": run_id, "version": version, "status": status})

    def _own_run_dir(self, run_id: str, recorded: str) -> Path | None:
        """The run's folder to remove: only ``<home>/runs/<run id>`` itself (never a link, never
        anything else a corrupt or forged record may name); None when there is none."""
        runs = (self.home / "runs").resolve()
        candidate = Path(recorded)
        if candidate.name != run_id or candidate.is_symlink():
            return None
        real = candidate.resolve()
        if real.parent != runs or not real.is_dir():
            return None
        return real
