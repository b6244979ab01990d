"""``MlShipExtension``: builds the service from ``MlShip`` config, adds the routes, emits run
status events and reconciles active runs in the background."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jupyter_server.extension.application import ExtensionApp
from traitlets import Int, Type

from .. import local_server
from .._version import __version__
from ..backend_config import SECTIONS as BACKEND_SECTIONS
from ..config import MlShip
from ..core import TERMINAL_STATUSES, RunInfo, ShipService
from ..errors import storage_error
from ..models import RunStatusEvent
from ..pipelines.models import PipelineRunInfo, PipelineRunStatusEvent
from ._base import EXECUTOR_KEY, SERVICE_KEY
from ._pipelines import PIPELINE_EMIT_KEY
from ._routes import tornado_handlers

if TYPE_CHECKING:
    from tornado.platform.asyncio import BaseAsyncIOLoop

RUN_STATUS_SCHEMA_ID = "https://events.jupyter-ml-ship.org/run-status/v1"
PIPELINE_STATUS_SCHEMA_ID = "https://events.jupyter-ml-ship.org/pipeline-run-status/v1"
EVENT_SCHEMAS = Path(__file__).with_name("events")
#: run ids whose last emitted status is remembered (to emit each change once)
_REMEMBERED = 10_000


class MlShipExtension(ExtensionApp):
    """Ship notebooks as versioned jobs: REST API under ``/ml-ship/api``."""

    name = "jupyter_ml_ship"
    description = __doc__
    extension_url = "/ml-ship/api/health"
    load_other_extensions = True
    classes = [*ExtensionApp.classes, MlShip, *BACKEND_SECTIONS]

    service_class = Type(ShipService, klass=ShipService, help="The service the extension "
                         "builds from MlShip config (a subclass adds or changes behaviour)."
                         ).tag(config=True)
    worker_threads = Int(8, help="Threads that run blocking service calls (store, backends, "
                         "notebook conversion) off the server's event loop.").tag(config=True)

    service: ShipService
    executor: ThreadPoolExecutor

    def initialize_settings(self) -> None:
        self.ml_ship = MlShip(parent=self)
        self.service = self.service_class(self.ml_ship)
        self.executor = ThreadPoolExecutor(self.worker_threads, thread_name_prefix="ml-ship")
        self.settings.update({SERVICE_KEY: self.service, EXECUTOR_KEY: self.executor,
                              PIPELINE_EMIT_KEY: self.emit_pipeline})
        self._last_status: OrderedDict[str, Any] = OrderedDict()
        self._next: dict[str, float] = {}  # monotonic time of each periodic task's next turn
        self._reconciler: asyncio.Task[None] | None = None
        serverapp = self.serverapp
        # the server links and initializes (event logger included) before its extensions
        assert serverapp is not None and serverapp.event_logger is not None
        for schema in ("run-status.v1.json", "pipeline-run-status.v1.json"):
            serverapp.event_logger.register_event_schema(EVENT_SCHEMAS / schema)
        self.service.subscribe(self._on_run_change)
        serverapp.io_loop.add_callback(self._start_reconciler)
        serverapp.io_loop.add_callback(self._announce)
        # the warm runner starts with the first local run (an idle lab does not pay for it),
        # owned by this server: it exits with it, even when the server is killed
        self.service.warm_on_first_run = True
        self.log.info("jupyter_ml_ship %s: home %s, store %s, default backend %s",
                      __version__, self.ml_ship.home, self.service.store.safe_url,
                      self.ml_ship.default_backend)

    def initialize_handlers(self) -> None:
        self.handlers.extend(tornado_handlers())

    def _announce(self) -> None:
        """Tell ``ml-ship`` on this machine where this server is (``local_server``): its
        ``run --wait`` then asks this server, warm, instead of starting the service anew."""
        app = self.serverapp
        if app is None or app.sock:
            return
        host = "[::1]" if ":" in app.ip else "127.0.0.1"
        url = f"{'https' if app.certfile else 'http'}://{host}:{app.port}{app.base_url}"
        try:
            local_server.announce(self.service.home, url, app.identity_provider.token or "",
                                  self.service.store.safe_url)
        except OSError as exc:  # the command then starts the service itself, as before
            self.log.warning("ml-ship: cannot announce this server in %s: %s",
                             self.service.home, exc)

    # ---- events -------------------------------------------------------------------------

    def _on_run_change(self, info: RunInfo) -> None:
        """Service callback, on whatever thread made the change: hop to the event loop."""
        assert self.serverapp is not None  # see initialize_settings
        # IOLoop.current() is an asyncio-based loop (tornado >= 5); its type does not say so
        io_loop = cast("BaseAsyncIOLoop", self.serverapp.io_loop)
        io_loop.asyncio_loop.call_soon_threadsafe(self._emit, info)

    def _changed(self, key: str, state: Any) -> bool:
        """Whether ``state`` is new for ``key`` (each change is emitted once)."""
        if self._last_status.get(key) == state:
            return False
        self._last_status[key] = state
        self._last_status.move_to_end(key)
        while len(self._last_status) > _REMEMBERED:
            self._last_status.popitem(last=False)
        return True

    def _send(self, schema_id: str, data: dict[str, Any]) -> None:
        try:
            assert self.serverapp is not None and self.serverapp.event_logger is not None
            self.serverapp.event_logger.emit(schema_id=schema_id, data=data)
        except Exception:  # an event listener must not break the service
            self.log.exception("ml-ship: emitting a %s event failed", schema_id)

    def _emit(self, info: RunInfo) -> None:
        # a retry (attempt 2 of 3) is a change the lab shows, though the status stays "running"
        if not self._changed(f"run:{info.id}", (info.status, info.attempts)):
            return
        event = RunStatusEvent(run_id=info.id, job=info.job, version=info.version,
                               status=info.status, pipeline_run_id=info.pipeline_run_id,
                               step=info.step, attempts=info.attempts)
        self._send(RUN_STATUS_SCHEMA_ID, event.model_dump(mode="json"))

    def emit_pipeline(self, info: PipelineRunInfo) -> None:
        """Emit a pipeline run's status and step statuses if they changed (on the loop)."""
        steps = {st.id: st.status or "pending" for st in info.steps}
        if not self._changed(f"pipeline:{info.id}", (info.status, tuple(steps.items()))):
            return
        event = PipelineRunStatusEvent(pipeline_run_id=info.id, pipeline=info.pipeline,
                                       status=info.status, steps=steps)  # type: ignore[arg-type]
        self._send(PIPELINE_STATUS_SCHEMA_ID, event.model_dump(mode="json"))

    # ---- reconciler ---------------------------------------------------------------------

    def _start_reconciler(self) -> None:
        if self._reconciler is None and self.ml_ship.reconcile_interval > 0:
            self._reconciler = asyncio.ensure_future(self._reconcile_forever())

    async def _reconcile_forever(self) -> None:
        """Move the status of active runs, wherever they were started (lab, API or CLI)."""
        interval = self.ml_ship.reconcile_interval / 1000
        loop = asyncio.get_running_loop()
        full_disk = ""  # said once while it lasts (a full disk is no bug: no traceback)
        while True:
            await asyncio.sleep(interval)
            known = [key for key, st in self._last_status.items() if not _ended(st)]
            try:
                infos, gone = await loop.run_in_executor(self.executor, self._reconcile_once,
                                                         known)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                full = storage_error(exc)
                if full is None:
                    self.log.exception("ml-ship: reconciling active runs failed")
                elif full.message != full_disk:
                    self.log.warning("ml-ship: reconciling active runs: %s", full.message)
                full_disk = full.message if full is not None else full_disk
                continue
            full_disk = ""
            for info in infos:
                if isinstance(info, RunInfo):
                    self._emit(info)
                else:
                    self.emit_pipeline(info)
            for key in gone:
                self._last_status.pop(key, None)

    def _due(self, task: str, every: float) -> bool:
        """Whether the periodic ``task`` (every ``every`` seconds; 0: never) has its turn now;
        if so, its next turn is set."""
        now = time.monotonic()
        if every <= 0 or now < self._next.get(task, 0.0):
            return False
        self._next[task] = now + every
        return True

    def _reconcile_once(self, known: list[str]) -> tuple[list[Any], list[str]]:
        """(current state of every active or recently active run and pipeline run, keys of
        those that disappeared), from one ``ShipService.tick``: discovery every
        ``discover_interval`` s and schedules every ``schedule_interval`` s. While an
        ``ml-ship agent`` holds the store's lease, it does that work and this only reads."""
        svc = self.service
        agent = svc.agent()
        if agent is not None:
            svc.ticker = None
            report = svc.tick(known, write=False)
        else:
            svc.ticker = "jupyter server"
            report = svc.tick(known, discover=self._due("discover", self.ml_ship.discover_interval),
                              schedules=self._due("schedules", self.ml_ship.schedule_interval))
        for run_id in report.discovered:
            self.log.info("ml-ship: recorded %s, started by a backend's scheduler", run_id)
        for sched, outcome in report.fired:
            self.log.info("ml-ship: schedule %r of %s %s v%d: %s", sched.schedule,
                          sched.kind, sched.name, sched.version, outcome)
        for error in report.errors:
            self.log.warning("ml-ship: %s", error)
        return report.states, report.gone

    async def stop_extension(self) -> None:
        """Stop the reconciler and the thread pool; runs keep going (they are detached)."""
        local_server.withdraw(self.service.home)
        task, self._reconciler = self._reconciler, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        try:
            if self.service.started_warm_runner:
                await asyncio.get_running_loop().run_in_executor(
                    self.executor, self.service.stop_warm_runner)
        except Exception:
            pass
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.service.close()
        self.log.info("jupyter_ml_ship stopped")

    def current_activity(self) -> Any:
        return None


def _ended(state: Any) -> bool:
    """A run's (status, attempts), or a pipeline run's (status, steps): over, nothing left to
    change."""
    status, detail = state
    if isinstance(detail, tuple):
        return status in TERMINAL_STATUSES and all(st in TERMINAL_STATUSES or st == "pending"
                                                   for _, st in detail)
    return status in TERMINAL_STATUSES
