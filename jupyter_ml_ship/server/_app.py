"""``MlShipExtension``: builds the service from ``MlShip`` config, adds the routes, emits run
status events and reconciles active runs in the background."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Int

from .._version import __version__
from ..config import MlShip
from ..core import TERMINAL_STATUSES, RunInfo, ShipService
from ..core.models import RunStatusEvent
from ..errors import NotFound
from ._base import EXECUTOR_KEY, SERVICE_KEY
from ._routes import tornado_handlers

RUN_STATUS_SCHEMA_ID = "https://events.jupyter-ml-ship.org/run-status/v1"
EVENT_SCHEMAS = Path(__file__).with_name("events")
#: run ids whose last emitted status is remembered (to emit each change once)
_REMEMBERED = 10_000


class MlShipExtension(ExtensionApp):
    """Ship notebooks as versioned jobs: REST API under ``/ml-ship/api``."""

    name = "jupyter_ml_ship"
    description = __doc__
    extension_url = "/ml-ship/api/health"
    load_other_extensions = True
    classes = [*ExtensionApp.classes, MlShip]

    worker_threads = Int(8, help="Threads that run blocking service calls (store, backends, "
                         "notebook conversion) off the server's event loop.").tag(config=True)

    service: ShipService
    executor: ThreadPoolExecutor

    def initialize_settings(self) -> None:
        self.ml_ship = MlShip(parent=self)
        self.service = ShipService(self.ml_ship)
        self.executor = ThreadPoolExecutor(self.worker_threads, thread_name_prefix="ml-ship")
        self.settings.update({SERVICE_KEY: self.service, EXECUTOR_KEY: self.executor})
        self._last_status: OrderedDict[str, str] = OrderedDict()
        self._reconciler: asyncio.Task[None] | None = None
        self.serverapp.event_logger.register_event_schema(EVENT_SCHEMAS / "run-status.v1.json")
        self.service.subscribe(self._on_run_change)
        self.serverapp.io_loop.add_callback(self._start_reconciler)
        self.log.info("jupyter_ml_ship %s: home %s, store %s, default backend %s",
                      __version__, self.ml_ship.home, self.service.store.safe_url,
                      self.ml_ship.default_backend)

    def initialize_handlers(self) -> None:
        self.handlers.extend(tornado_handlers())

    # ---- events -------------------------------------------------------------------------

    def _on_run_change(self, info: RunInfo) -> None:
        """Service callback, on whatever thread made the change: hop to the event loop."""
        self.serverapp.io_loop.asyncio_loop.call_soon_threadsafe(self._emit, info)

    def _emit(self, info: RunInfo) -> None:
        if self._last_status.get(info.id) == info.status:
            return
        self._last_status[info.id] = info.status
        self._last_status.move_to_end(info.id)
        while len(self._last_status) > _REMEMBERED:
            self._last_status.popitem(last=False)
        event = RunStatusEvent(run_id=info.id, job=info.job, version=info.version,
                               status=info.status, pipeline_run_id=info.pipeline_run_id,
                               step=info.step)
        try:
            self.serverapp.event_logger.emit(schema_id=RUN_STATUS_SCHEMA_ID,
                                             data=event.model_dump(mode="json"))
        except Exception:  # an event listener must not break the service
            self.log.exception("ml-ship: emitting a run status event failed")

    # ---- reconciler ---------------------------------------------------------------------

    def _start_reconciler(self) -> None:
        if self._reconciler is None and self.ml_ship.reconcile_interval > 0:
            self._reconciler = asyncio.ensure_future(self._reconcile_forever())

    async def _reconcile_forever(self) -> None:
        """Move the status of active runs, wherever they were started (lab, API or CLI)."""
        interval = self.ml_ship.reconcile_interval / 1000
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            known = [rid for rid, st in self._last_status.items() if st not in TERMINAL_STATUSES]
            try:
                infos, gone = await loop.run_in_executor(self.executor, self._reconcile_once,
                                                         known)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("ml-ship: reconciling active runs failed")
                continue
            for info in infos:
                self._emit(info)
            for rid in gone:
                self._last_status.pop(rid, None)

    def _reconcile_once(self, known: list[str]) -> tuple[list[RunInfo], list[str]]:
        """(current state of every active or recently active run, ids that disappeared)."""
        infos, gone = [], []
        for run_id in sorted(set(self.service.active_run_ids()) | set(known)):
            try:
                infos.append(self.service.get_run(run_id))  # reconciles, then reads
            except NotFound:  # its job was deleted
                gone.append(run_id)
            except Exception:
                self.log.exception("ml-ship: reconciling run %s failed", run_id)
        return infos, gone

    async def stop_extension(self) -> None:
        """Stop the reconciler and the thread pool; runs keep going (they are detached)."""
        task, self._reconciler = self._reconciler, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.service.close()
        self.log.info("jupyter_ml_ship stopped")

    def current_activity(self) -> Any:
        return None
