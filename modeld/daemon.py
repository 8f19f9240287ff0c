"""The daemon: the one place that wires watch → queues → ingest → library → links/hub.

Start-up order matters: lock the state dir, open the index, finish or undo
interrupted imports (journal), start the workers, the control socket, the
watches (whose catch-up scan feeds the queues), the scheduler; only then
tell systemd READY=1. Shutdown runs the other way round and exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from modeld.config import Config, WatchConfig
from modeld.control.events import EventBus
from modeld.control.server import ControlServer
from modeld.errorlog import ErrorLog
from modeld.ingest import ledger
from modeld.ingest.pipeline import (
    Attached,
    Duplicate,
    Failed,
    ImportCancelled,
    Imported,
    Importer,
    ImportReport,
    Outcome,
    Quarantined,
    Waiting,
    problem_outcome,
    recover,
)
from modeld.ingest.planner import plan_units
from modeld.ingest.quarantine import count_quarantine
from modeld.ingest.units import ImportUnit, companion_unit
from modeld.library import db as index_db
from modeld.library.layout import LibraryOffline, ensure_library, library_available
from modeld.pidlock import LockHeld, PidLock, acquire
from modeld.queues import PRIORITY_BACKGROUND, PRIORITY_USER, DeviceQueues, Job
from modeld.service.sdnotify import Notifier
from modeld.signals import StopSignals
from modeld.watch import WatchService

log = logging.getLogger(__name__)

SHUTDOWN_BUDGET = 12.0  # seconds; systemd's TimeoutStopSec is 15+


class AlreadyRunning(Exception):
    """Another daemon holds this state dir."""


@dataclass
class _Work:
    """What a queued job carries: the unit, how to import it, who waits for it."""

    unit: ImportUnit
    copy: bool
    watch: WatchConfig | None
    result: Future[Outcome]


class Daemon:
    def __init__(self, config: Config):
        self.config = config
        self.events = EventBus()
        self.events.listen(self._observe)
        self.notifier = Notifier()
        # written by worker, hub and scheduler threads, read by status requests
        self._status_lock = threading.Lock()
        self.counters = {"imported": 0, "duplicates": 0, "quarantined": 0, "failed": 0}
        self.errors = ErrorLog()
        self.recent: list[dict[str, Any]] = []
        self.stop_signals = StopSignals()
        self._stop = threading.Event()  # set once the main loop has ended
        self._lock: PidLock | None = None
        self._library_online = True
        self._inflight: set[Path] = set()
        self._inflight_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------

    def run(self) -> int:
        self._acquire_lock()
        self.stop_signals.install()
        try:
            self._start()
            self.notifier.ready()
            self.notifier.status(self._status_line())
            log.info(
                "modeld ready: library %s, %d watch(es)",
                self.config.library_root,
                len(self.config.watches),
            )
            self._main_loop()
        finally:
            self._stop.set()  # for the threads that check it (the verify job)
            self.notifier.stopping()
            self._shutdown()
        return 0

    def _acquire_lock(self) -> None:
        state_dir = self.config.daemon.state_dir
        try:
            self._lock = acquire(state_dir / "modeld.lock")
        except LockHeld as held:
            raise AlreadyRunning(
                f"another modeld (pid {held.pid}) is already running with state dir {state_dir}"
            ) from None
        self.config.pid_path.write_text(f"{os.getpid()}\n")

    def _start(self) -> None:
        config = self.config
        self._wait_for_library()
        self.db = index_db.open_index(config.index_path)
        for message in recover(config):
            self._note_error(f"recovered: {message}")

        self.links = self._make_links()
        self.hub = self._make_hub()
        after_import = [lambda meta, details: self.links.sync_model(meta.id)]
        if self.hub is not None:
            # the parsed header goes along, so enrichment does not read the file again
            after_import.append(lambda meta, details: self.hub.enqueue(meta.id, details))
        self.importer = Importer(config, on_event=self.events.publish, after_import=after_import)

        self.queues = DeviceQueues(config.queues, run=self._run_job)
        self.queues.start()
        # built before the control socket answers: `status` reports on it
        self.watch = WatchService(
            config.watches,
            on_ready=self._on_ready,
            on_failed=self._on_settle_failed,
            settle_seconds=config.daemon.settle_seconds,
            truncated_grace=config.daemon.truncated_grace_minutes * 60,
            # a library, quarantine or state dir inside a drop folder is not a drop
            exclude=[config.library_root, config.quarantine_dir, config.daemon.state_dir],
        )
        self.control = ControlServer(config.socket_path, self._handlers(), self.events)
        self.control.start()
        self.watch.start()
        if self.hub is not None:
            self.hub.start()
        self.scheduler = self._make_scheduler()
        self.scheduler.start()
        threading.Thread(target=self._initial_link_sync, name="links-sync", daemon=True).start()
        self.tray = self._start_tray()

    def _start_tray(self) -> subprocess.Popen | None:
        """`modeld run` from a desktop session brings its tray icon along.

        Under systemd or launchd the tray has a unit or agent of its own,
        bound to the graphical session, so none is started here.
        """
        if os.environ.get("INVOCATION_ID") or os.environ.get("MODELD_SERVICE"):
            return None
        from modeld.tray.launch import start_tray  # a subprocess: pystray stays out of here

        return start_tray(self.config)

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

    def _main_loop(self) -> None:
        interval = self.notifier.watchdog_interval()
        tick = min(interval / 2, 5.0) if interval else 5.0
        while not self.stop_signals.wait(tick):
            if interval and self._healthy():
                self.notifier.watchdog_ping()
            self._check_library()
            # the scheduler sleeps on a monotonic clock that stops during suspend:
            # a nudge makes it compare with wall time and catch up missed runs
            self.scheduler.wakeup()
            self.notifier.status(self._status_line())

    def _shutdown(self) -> None:
        deadline = time.monotonic() + SHUTDOWN_BUDGET
        log.info("modeld stopping")
        if getattr(self, "tray", None) is not None:
            from modeld.tray.launch import stop_tray

            stop_tray(self.tray)
        for name in ("watch", "scheduler", "hub"):
            component = getattr(self, name, None)
            if component is None:
                continue
            try:
                if name == "scheduler":
                    component.shutdown(wait=False)
                else:
                    component.stop()
            except Exception:
                log.exception("error while stopping %s", name)
        if getattr(self, "queues", None) is not None:
            # in-flight copies finish within the budget; the journal undoes the rest
            self.queues.stop(timeout=max(0.0, deadline - time.monotonic() - 1.0))
        if getattr(self, "control", None) is not None:
            self.control.stop()
        if getattr(self, "db", None) is not None:
            self.db.close()
        with contextlib.suppress(FileNotFoundError):
            self.config.pid_path.unlink()
        if self._lock is not None:
            self._lock.release()
        log.info("modeld stopped")

    def _healthy(self) -> bool:
        return (
            self.watch.health()
            and self.queues.health()
            and self.scheduler.running
            and self.control.alive()
        )

    # -- components built here so the wiring reads top to bottom ------------------------

    def _make_links(self):
        """Built even with no [[app]]: the links of a removed app still need cleaning up."""
        from modeld.links import LinkManager

        return LinkManager(self.config)

    def _initial_link_sync(self) -> None:
        """A full reconcile at start: a new [[app]] gets the whole library, a removed one
        loses its links, a moved library or app is followed."""
        try:
            report = self.links.sync_all()
            log.info("links: start-up sync done: %s", _summary(report))
        except Exception:
            log.exception("links: start-up sync failed")

    def _make_hub(self):
        if not self.config.hub.enabled:
            return None  # zero network calls, not even a thread
        from modeld.hub import HubEnricher

        # a new match may change where links file the model (LM Studio's publisher/model)
        return HubEnricher(
            self.config, on_event=self.events.publish, on_confirmed=self.links.sync_model
        )

    def _make_scheduler(self):
        from modeld.scheduler import build_scheduler

        jobs = {
            "rescan": (self.config.daemon.rescan_minutes * 60, self.watch.rescan),
            "wal-checkpoint": (3600.0, self._checkpoint),
            "verify": (self.config.daemon.verify_hours * 3600, self._verify_some),
        }
        jobs["links-repair"] = (self.config.links.repair_minutes * 60, self._repair_links)
        if self.hub is not None:
            jobs["hub-retry"] = (self.config.hub.retry_minutes * 60, self.hub.retry_pending)
        # the watches' catch-up scan, started just before, is the overdue rescan
        return build_scheduler(jobs, on_error=self._note_error, done_at_start={"rescan"})

    # -- the flow of one file -------------------------------------------------------------

    def _on_ready(self, path: Path, watch: WatchConfig) -> bool:
        """A settled file from a watch: plan it and queue it in the background.

        Returns False when the queue is full: the watcher offers it again later.
        Each shard of a set (each file of a diffusers folder) settles on its
        own and plans the same unit; only the first one queues it.
        """
        if ledger.already_handled(path):
            self.watch.done(path)
            return True
        units, problems = plan_units([path], boundary=watch.path)
        covered = False
        for problem in problems:
            covered |= problem.path == path
            if problem.owner is not None and ledger.already_handled(problem.owner):
                # its model was imported from here and stays (a copy-mode drive):
                # the companion cannot move with it, so it joins the library copy
                units.append(companion_unit(problem.path))
            elif problem.retry:
                self._hold(problem.path, problem.reason)
            elif problem.path == path or not ledger.already_handled(problem.path):
                # a sibling refused when an earlier file of its folder was planned is
                # in the ledger: said once, not again for each file of the folder
                self._refuse(problem.path, problem.reason, watch)
        for unit in units:
            covered |= any(f.path == path for f in unit.files)
            with self._inflight_lock:
                queued = unit.source in self._inflight
            if queued:
                self.watch.done(path)  # the queued unit finishes this file too
                continue
            copy = watch.mode == "copy"
            if self._submit(unit, copy=copy, watch=watch, priority=PRIORITY_BACKGROUND) is None:
                return False
        if not covered:
            self.watch.done(path)
        return True

    def _refuse(self, path: Path, reason: str, watch: WatchConfig) -> None:
        """A watched file that cannot be imported as it is: said once, in the log and status.

        The importer reports the refusals it finds itself; these come from planning
        (a name, a file type), before any import. Once finished, the file is
        remembered as handled, so a rescan does not say it again.
        """
        log.warning("not imported: %s: %s", path, reason)
        self.events.publish({"event": "failed", "path": str(path), "reason": reason})
        self._finish_watched(path, Failed(str(path), reason), watch)

    def _hold(self, path: Path, reason: str) -> None:
        """Park a watched file until it changes; status lists it under `waiting`."""
        if self.watch.retry_later(path, reason):
            # tells the tray to fetch the status again: its waiting count changed
            self.events.publish({"event": "waiting", "path": str(path), "reason": reason})

    def _on_settle_failed(self, path: Path, watch: WatchConfig, reason: str) -> None:
        """A file that stayed incomplete past the grace period: reported, left in place."""
        self.events.publish({"event": "failed", "path": str(path), "reason": reason})

    def _submit(
        self,
        unit: ImportUnit,
        *,
        copy: bool,
        watch: WatchConfig | None,
        priority: int,
        block: bool = False,
    ) -> tuple[Job, _Work] | None:
        work = _Work(unit, copy, watch, Future())
        with self._inflight_lock:  # before submit: the job may finish before submit returns
            self._inflight.add(unit.source)
        job = self.queues.submit(unit.source, priority=priority, payload=work, block=block)
        if job is None:
            with self._inflight_lock:
                self._inflight.discard(unit.source)
            return None
        return job, work

    def _run_job(self, job: Job) -> None:
        work: _Work = job.payload

        def progress(done: int, total: int) -> None:
            job.progress(done, total)
            self.events.publish(
                {"event": "progress", "path": str(work.unit.source), "done": done, "total": total}
            )
            if job.cancelled.is_set():
                raise ImportCancelled("modeld is stopping")

        try:
            outcome = self.importer.import_unit(work.unit, copy=work.copy, progress=progress)
        except Exception as exc:  # a bug must cost one file, never the daemon
            log.exception("import of %s crashed", work.unit.source)
            outcome = Failed(str(work.unit.source), f"internal error: {exc}")
            # the importer never got to report it: status and the tray still must
            self.events.publish(
                {"event": "failed", "path": str(work.unit.source), "reason": outcome.reason}
            )
        with self._inflight_lock:
            self._inflight.discard(work.unit.source)
        if work.watch is not None:
            for file in work.unit.files:
                self._finish_watched(file.path, outcome, work.watch)
        work.result.set_result(outcome)

    def _finish_watched(self, path: Path, outcome: Outcome, watch: WatchConfig) -> None:
        if isinstance(outcome, Waiting):
            self._hold(path, outcome.reason)
            return
        if path.exists():
            kind = {
                Imported: "imported",
                Attached: "attached",
                Duplicate: "duplicate",
                Quarantined: "quarantined",
                Failed: "failed",
            }[type(outcome)]
            ledger.record(path, kind, getattr(outcome, "reason", ""))
        elif watch.mode == "move":
            prune_empty_folders(path.parent, watch.path)
        self.watch.done(path)

    def _import_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """`modeld import` through the daemon: user priority, waits for the outcome."""
        paths = request.get("paths")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError("import needs 'paths': a list of strings")
        copy = bool(request.get("copy", False))
        report = ImportReport()
        units, problems = plan_units([Path(p) for p in paths])
        for problem in problems:
            report.add(problem_outcome(problem))
        queued = [
            self._submit(unit, copy=copy, watch=None, priority=PRIORITY_USER, block=True)
            for unit in units
        ]
        for unit, submitted in zip(units, queued, strict=True):
            if submitted is None:
                report.add(Failed(str(unit.source), "modeld is stopping; import it again later"))
                continue
            job, work = submitted
            job.wait()  # a job cancelled at shutdown never runs: its future stays empty
            if work.result.done():
                report.add(work.result.result())
            else:
                report.add(Failed(str(unit.source), "modeld stopped before importing it"))
        return report.to_json()

    # -- status ---------------------------------------------------------------------------

    def _observe(self, event: dict[str, Any]) -> None:
        """Status counters and recent imports."""
        kind = event.get("event")
        if kind == "imported":
            model = event["model"]
            log.info(
                "imported %s as %s (%s/%s)",
                event["path"],
                model["id"],
                model["model_type"],
                model["family"],
            )
            with self._status_lock:
                self.counters["imported"] += 1
                self.recent = [event["model"], *self.recent][:10]
        elif kind == "duplicate":
            log.info("duplicate of %s: %s", event["id"], event["path"])
            self._count("duplicates")
        elif kind == "quarantined":
            log.warning("quarantined %s: %s", event["path"], event["reason"])
            self._count("quarantined")
        elif kind == "failed":
            self._count("failed")
            self._note_error(event["reason"], path=event["path"])

    def _count(self, counter: str) -> None:
        with self._status_lock:  # += is a read and a write: two workers could lose one
            self.counters[counter] += 1

    def _note_error(self, reason: str, *, path: str | None = None) -> None:
        """Keep an error for `status` (from any thread); `path` when it is about one file."""
        self.errors.add(path, reason, time.time())

    def status(self) -> dict[str, Any]:
        state = "paused" if self.queues.paused else "running"
        with self._status_lock:
            counters, recent = dict(self.counters), list(self.recent)
        document = {
            "state": state,
            "pid": os.getpid(),
            "watching": self.watch.watching(),
            "queues": self.queues.snapshot(),
            "imported": counters["imported"],
            "duplicates": counters["duplicates"],
            # what waits for the user in the quarantine folder, not a session count
            "quarantined": count_quarantine(self.config.quarantine_dir),
            "quarantined_since_start": counters["quarantined"],
            "failed": counters["failed"],
            "links": self.links.counts(),
            "errors": self.errors.to_json(),
            "waiting": [item.to_json() for item in self.watch.waiting()],
            "recent": recent,
            "imported_today": self._imported_today(),
            "library": {
                "root": str(self.config.library_root),
                "online": self._library_online,
            },
            "hub": self.hub.status() if self.hub is not None else {"state": "disabled"},
            "quarantine_dir": str(self.config.quarantine_dir),
            "drop_folders": [str(w.path) for w in self.config.watches],
        }
        return document

    def _imported_today(self) -> int:
        midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            index_db.ModelRecord.select()
            .where(index_db.ModelRecord.imported_at >= midnight.timestamp())
            .count()
        )

    def _status_line(self) -> str:
        pending = sum(q["pending"] + len(q["active"]) for q in self.queues.snapshot())
        state = "paused" if self.queues.paused else "watching"
        return f"{state}; {pending} queued; {self.counters['imported']} imported"

    def _check_library(self) -> None:
        online = library_available(self.config.library_root)
        if online != self._library_online:
            self._library_online = online
            log.warning(
                "library %s is %s",
                self.config.library_root,
                "back online" if online else "offline (drive unmounted?)",
            )
            self.events.publish({"event": "library", "state": "online" if online else "offline"})
            if online:
                self.queues.resume()
            else:
                self.queues.pause()

    # -- control commands -------------------------------------------------------------------

    def _handlers(self) -> dict[str, Any]:
        return {
            "status": lambda request: self.status(),
            "import": self._import_request,
            "pause": lambda request: self._set_paused(True),
            "resume": lambda request: self._set_paused(False),
            "links_check": lambda request: self._links_call("check"),
            "links_repair": lambda request: self._links_call("repair"),
        }

    def _set_paused(self, paused: bool) -> dict[str, Any]:
        if paused:
            self.queues.pause()
        else:
            self.queues.resume()
        state = "paused" if paused else "running"
        self.events.publish({"event": "state", "state": state})
        return {"state": state}

    def _links_call(self, action: str) -> dict[str, Any]:
        return getattr(self.links, action)()

    # -- scheduled jobs -----------------------------------------------------------------------

    def _checkpoint(self) -> None:
        self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def _repair_links(self) -> None:
        if not library_available(self.config.library_root):
            return  # an unmounted library is not an empty one: touch nothing
        report = self.links.repair()
        self.events.publish(
            {
                "event": "links_repaired",
                "fixed": report.get("fixed", 0),
                "unfixed": report.get("unfixed", 0),
            }
        )

    def _verify_some(self) -> None:
        """Re-hash the least recently verified models, time-boxed so it never hogs a disk."""
        from modeld.library.verify import verify_models

        budget_end = time.monotonic() + 600
        cursor = index_db.get_state("verify.cursor", "")
        query = (
            index_db.ModelRecord.select()
            .where(index_db.ModelRecord.model_id > cursor)
            .order_by(index_db.ModelRecord.model_id)
        )
        for record in query.iterator():
            if self._stop.is_set() or time.monotonic() > budget_end:
                return
            report = verify_models(self.config.library_root, [record])
            for item in report["mismatched"] + report["missing"]:
                self._note_error("changed or missing in the library (verify)", path=item["path"])
            index_db.set_state("verify.cursor", record.model_id)
        index_db.set_state("verify.cursor", "")


def prune_empty_folders(folder: Path, root: Path) -> None:
    """Remove the folders a move import emptied, up to (not including) the watch root.

    rmdir only ever removes an empty folder, so nothing a user put there can go.
    """
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _summary(report: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in report.items() if isinstance(v, int))
