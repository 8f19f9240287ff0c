"""The daemon: the one place that wires watch → queues → ingest → library → links/hub.

Start-up order matters: lock the state dir, open the index, finish or undo
interrupted imports (journal), start the control socket, the workers, the
watches (whose catch-up scan feeds the queues), the scheduler; only then tell
systemd READY=1. Each component's stop goes on an ExitStack as it starts, so
shutdown runs the other way round (producers, then the queues' drain, then
the socket, the index, the lock) and exits 0, however far start-up got.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import subprocess
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modeld.after_import import after_import_steps
from modeld.config import Config
from modeld.control import events
from modeld.control.bus import EventBus
from modeld.control.server import ControlServer
from modeld.daemon.errors import AlreadyRunning
from modeld.daemon.intake import Intake, OnFailed, OnReady, RunJob
from modeld.daemon.jobs import Jobs
from modeld.daemon.status import StatusBoard, status_document, status_line
from modeld.ingest.pipeline import Importer, recover
from modeld.library import db as index_db
from modeld.library.errors import LibraryOffline
from modeld.library.layout import ensure_library, library_available
from modeld.links import LinkManager
from modeld.pidlock import LockHeld, acquire
from modeld.queues import DeviceQueues
from modeld.service.sdnotify import Notifier
from modeld.signals import StopSignals
from modeld.tray.launch import start_tray, stop_tray
from modeld.watch import WatchService

if TYPE_CHECKING:  # the hub is imported only when enabled (it loads the HTTP stack)
    from modeld.hub import HubEnricher

log = logging.getLogger(__name__)

SHUTDOWN_BUDGET = 12.0  # seconds; systemd's TimeoutStopSec is 15+


class Daemon:
    """The process: its lock, signals, systemd notifications and main loop."""

    def __init__(self, config: Config):
        self.config = config
        self.notifier = Notifier()
        self.stop_signals = StopSignals()
        self.stopping = threading.Event()  # set once the main loop has ended
        self._stop_by = math.inf  # when shutdown must be over (monotonic clock)
        self.events = EventBus()
        self.board = StatusBoard()
        self.events.listen(self.board.observe)

    def run(self) -> int:
        with contextlib.ExitStack() as stack:
            stack.callback(log.info, "modeld stopped")
            self._hold_state_dir(stack)
            self.stop_signals.install()
            try:
                self._wait_for_library()
                services = Services(self, stack)
                self.notifier.ready()
                self.notifier.status(services.status_line())
                log.info(
                    "modeld ready: library %s, %d watch(es)",
                    self.config.library_root,
                    len(self.config.watches),
                )
                self._main_loop(services)
            finally:
                self._stop_by = time.monotonic() + SHUTDOWN_BUDGET
                self.stopping.set()  # for the threads that check it (the verify job)
                self.notifier.stopping()
                log.info("modeld stopping")
        return 0

    def _hold_state_dir(self, stack: contextlib.ExitStack) -> None:
        state_dir = self.config.daemon.state_dir
        try:
            lock = acquire(state_dir / "modeld.lock")
        except LockHeld as held:
            raise AlreadyRunning(
                f"another modeld (pid {held.pid}) is already running with state dir {state_dir}"
            ) from None
        stack.callback(lock.release)
        self.config.pid_path.write_text(f"{os.getpid()}\n")
        stack.callback(self.config.pid_path.unlink, missing_ok=True)

    def _wait_for_library(self) -> None:
        """An unmounted library drive is waited for, never replaced by a new empty library."""
        announced = False
        while True:
            try:
                ensure_library(self.config.library_root, self.config.daemon.state_dir)
                return
            except LibraryOffline as exc:
                if not announced:
                    log.warning("%s; waiting for it", exc)
                    # tell systemd we are up (not hung), just waiting
                    self.notifier.ready(f"waiting for the library at {self.config.library_root}")
                    announced = True
            if self.stop_signals.wait(5.0):
                raise SystemExit(0)

    def _main_loop(self, services: Services) -> None:
        interval = self.notifier.watchdog_interval()
        tick = min(interval / 2, 5.0) if interval else 5.0
        while not self.stop_signals.wait(tick):
            if interval and services.healthy():
                self.notifier.watchdog_ping()
            services.check_library()
            # the scheduler sleeps on a monotonic clock that stops during suspend:
            # a nudge makes it compare with wall time and catch up missed runs
            services.scheduler.wakeup()
            self.notifier.status(services.status_line())

    def budget_left(self) -> float:
        """Seconds left of the shutdown budget (infinite before shutdown began)."""
        return self._stop_by - time.monotonic()


class Services:
    """Every component, made and started here in order; each stop goes on `stack`."""

    def __init__(self, daemon: Daemon, stack: contextlib.ExitStack):
        self.config = config = daemon.config
        self.events = bus = daemon.events
        self.board = board = daemon.board
        self._budget_left = daemon.budget_left
        self.library_online = True
        self.db = index_db.open_index(config.index_path)
        stack.callback(self.db.close)
        for message in recover(config):
            board.note_error(f"recovered: {message}")

        # built even with no [[app]]: the links of a removed app still need cleaning up
        self.links = LinkManager(config)
        self.hub = self._make_hub()
        importer = Importer(
            config,
            on_event=bus.publish,
            after_import=after_import_steps(self.links, self.hub),
        )
        self.intake = Intake(
            importer, bus.publish, make_queues=self._make_queues, make_watch=self._make_watch
        )
        self.queues, self.watch = self.intake.queues, self.intake.watch
        self.jobs = Jobs(
            config,
            self.db,
            self.links,
            publish=bus.publish,
            note_error=board.note_error,
            stopping=daemon.stopping,
        )
        self.control = ControlServer(config.socket_path, self._handlers(), bus)

        # started with its stop pushed at once: stopped in reverse order
        stack.callback(self.control.stop)
        self.control.start()
        self.queues.start()
        stack.callback(self._drain_queues)
        self.watch.start()
        stack.callback(_quietly, "watch", self.watch.stop)
        if self.hub is not None:
            self.hub.start()
            stack.callback(_quietly, "hub", self.hub.stop)
        self.scheduler = self.jobs.scheduler(self.watch.rescan, self.hub)
        self.scheduler.start()
        stack.callback(_quietly, "scheduler", self.scheduler.shutdown, wait=False)
        threading.Thread(target=self.jobs.initial_link_sync, name="links-sync", daemon=True).start()
        tray = self._start_tray()
        if tray is not None:
            stack.callback(stop_tray, tray)

    # -- the components built here ------------------------------------------------------

    def _make_hub(self) -> HubEnricher | None:
        if not self.config.hub.enabled:
            return None  # zero network calls, not even a thread (nor httpx imported)
        from modeld.hub import HubEnricher

        # a new match may change where links file the model (LM Studio's publisher/model)
        return HubEnricher(
            self.config, on_event=self.events.publish, on_confirmed=self.links.sync_model
        )

    def _make_queues(self, run: RunJob) -> DeviceQueues:
        return DeviceQueues(self.config.queues, run=run)

    def _make_watch(self, on_ready: OnReady, on_failed: OnFailed) -> WatchService:
        config = self.config
        return WatchService(
            config.watches,
            on_ready=on_ready,
            on_failed=on_failed,
            settle_seconds=config.daemon.settle_seconds,
            truncated_grace=config.daemon.truncated_grace_minutes * 60,
            # a library, quarantine or state dir inside a drop folder is not a drop
            exclude=[config.library_root, config.quarantine_dir, config.daemon.state_dir],
        )

    def _start_tray(self) -> subprocess.Popen[bytes] | None:
        """`modeld run` from a desktop session brings its tray icon along (a subprocess).

        Under systemd or launchd the tray has a unit or agent of its own,
        bound to the graphical session, so none is started here.
        """
        if os.environ.get("INVOCATION_ID") or os.environ.get("MODELD_SERVICE"):
            return None
        return start_tray(self.config)

    def _drain_queues(self) -> None:
        # in-flight copies finish within the budget; the journal undoes the rest
        self.queues.stop(timeout=max(0.0, self._budget_left() - 1.0))

    # -- what the main loop asks ----------------------------------------------------------

    def healthy(self) -> bool:
        return (
            self.watch.health()
            and self.queues.health()
            and self.scheduler.running
            and self.control.alive()
        )

    def status(self) -> dict[str, Any]:
        return status_document(
            self.config,
            self.board,
            queues=self.queues,
            watch=self.watch,
            links=self.links,
            hub=self.hub,
            library_online=self.library_online,
        )

    def status_line(self) -> str:
        return status_line(self.board, self.queues)

    def check_library(self) -> None:
        online = library_available(self.config.library_root)
        if online == self.library_online:
            return
        self.library_online = online
        log.warning(
            "library %s is %s",
            self.config.library_root,
            "back online" if online else "offline (drive unmounted?)",
        )
        self.events.publish(events.LibraryState("online" if online else "offline"))
        if online:
            self.queues.resume()
        else:
            self.queues.pause()

    # -- control commands -------------------------------------------------------------------

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {
            "status": lambda request: self.status(),
            "import": self.intake.import_request,
            "pause": lambda request: self._set_paused(True),
            "resume": lambda request: self._set_paused(False),
            "links_check": lambda request: self.links.check(),
            "links_repair": lambda request: self.links.repair(),
        }

    def _set_paused(self, paused: bool) -> dict[str, Any]:
        if paused:
            self.queues.pause()
        else:
            self.queues.resume()
        state = "paused" if paused else "running"
        self.events.publish(events.StateChanged(state))
        return {"state": state}


def _quietly(name: str, stop: Callable[..., Any], **arguments: Any) -> None:
    """A component that fails to stop is logged; the others still stop."""
    try:
        stop(**arguments)
    except Exception:
        log.exception("error while stopping %s", name)
