"""Intake: settled files from the watches, and `import` requests, become import
units on the device queues; each outcome goes back to the watch and the ledger.

A watched file is planned into units (a shard set, a diffusers folder, a
companion), each queued once at background priority; `import` requests go
ahead of them at user priority and wait for their outcomes. What a watched
file came to is remembered in the ledger while the file stays (a copy-mode
drive, a refused file), so a rescan does not handle it again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from modeld.config import WatchConfig
from modeld.control import events
from modeld.ingest import ledger
from modeld.ingest.listings import Listings
from modeld.ingest.outcomes import Failed, ImportReport, Outcome, Waiting, problem_outcome
from modeld.ingest.pipeline import ImportCancelled, ProgressSink
from modeld.ingest.planner import plan_units
from modeld.ingest.units import ImportUnit, companion_unit
from modeld.queues import PRIORITY_BACKGROUND, PRIORITY_USER, Job

log = logging.getLogger(__name__)

RunJob = Callable[[Job], Future[Outcome]]
OnReady = Callable[[Path, WatchConfig], bool]
OnFailed = Callable[[Path, WatchConfig, str], None]


class ImportsUnits(Protocol):
    """The Importer, as intake uses it: stages a unit in the calling worker and
    commits it with others later (a group commit); the future says when."""

    def submit_unit(
        self, unit: ImportUnit, *, copy: bool, progress: ProgressSink | None = None
    ) -> Future[Outcome]: ...


class JobQueue(Protocol):
    """The device queues, as intake uses them."""

    def submit(
        self, path: Path, *, priority: int, payload: Any = None, block: bool = False
    ) -> Job | None: ...


class HeldFiles(Protocol):
    """The watch service, as intake uses it: it hands out settled files and waits to hear."""

    def done(self, path: Path) -> None: ...

    def retry_later(self, path: Path, reason: str) -> bool: ...


Q = TypeVar("Q", bound=JobQueue)
W = TypeVar("W", bound=HeldFiles)


@dataclass
class _Work:
    """What a queued job carries: the unit, how to import it, who waits for it."""

    unit: ImportUnit
    copy: bool
    watch: WatchConfig | None
    result: Future[Outcome]


class Intake(Generic[Q, W]):
    """Owns the queues it feeds and the watch it answers: both are made here, from
    the factories given, because each calls back into intake."""

    def __init__(
        self,
        importer: ImportsUnits,
        publish: Callable[[events.Event], None],
        *,
        make_queues: Callable[[RunJob], Q],
        make_watch: Callable[[OnReady, OnFailed], W],
    ):
        self._importer = importer
        self._publish = publish
        # sources queued and not finished: the other files of a unit plan it again
        self._inflight: set[Path] = set()
        self._inflight_lock = threading.Lock()
        # drop-folder listings shared by the plans of files that settle together
        self._listings = Listings()  # the watch thread's: on_ready only
        self._ledger = ledger.Ledger()
        # watched files refused or failed since start: each said once per start
        self._reported: set[Path] = set()
        self.queues: Q = make_queues(self.run_job)
        self.watch: W = make_watch(self.on_ready, self.on_settle_failed)

    # -- from the watch -------------------------------------------------------------------

    def on_ready(self, path: Path, watch: WatchConfig) -> bool:
        """A settled file from a watch: plan it and queue it in the background.

        Returns False when the queue is full: the watcher offers it again later.
        Each shard of a set (each file of a diffusers folder) settles on its
        own and plans the same unit; only the first one queues it.
        """
        known = self._ledger.handled(path)
        if known is not None:
            if known.outcome == Failed.status:
                self._remind(path, known.reason)
            self.watch.done(path)
            return True
        units, problems = plan_units([path], boundary=watch.path, listings=self._listings)
        covered = False
        for problem in problems:
            covered |= problem.path == path
            if problem.owner is not None and self._ledger.handled(problem.owner):
                # its model was imported from here and stays (a copy-mode drive):
                # the companion cannot move with it, so it joins the library copy
                units.append(companion_unit(problem.path))
            elif problem.retry:
                self._hold(problem.path, problem.reason)
            elif problem.path == path or not self._ledger.handled(problem.path):
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

    def on_settle_failed(self, path: Path, watch: WatchConfig, reason: str) -> None:
        """A file that stayed incomplete past the grace period: reported, left in place."""
        self._publish(events.Failed(str(path), reason))

    def _refuse(self, path: Path, reason: str, watch: WatchConfig) -> None:
        """A watched file that cannot be imported as it is: said once, in the log and status.

        The importer reports the refusals it finds itself; these come from planning
        (a name, a file type), before any import. Once finished, the file is
        remembered as handled, so a rescan does not say it again.
        """
        log.warning("not imported: %s: %s", path, reason)
        self._publish(events.Failed(str(path), reason))
        self._finish_watched(path, Failed(str(path), reason), watch)

    def _remind(self, path: Path, reason: str) -> None:
        """A file refused before this start, still there unchanged: `status` lists
        every file a watch refused since start, so it is said again, once."""
        if path not in self._reported:
            self._reported.add(path)
            log.warning("still not imported: %s: %s", path, reason)
            self._publish(events.Failed(str(path), reason))

    def _hold(self, path: Path, reason: str) -> None:
        """Park a watched file until it changes; status lists it under `waiting`."""
        if self.watch.retry_later(path, reason):
            # tells the tray to fetch the status again: its waiting count changed
            self._publish(events.Waiting(str(path), reason))

    # -- `modeld import` through the daemon -------------------------------------------------

    def import_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """User priority; waits for the outcomes and answers with the import report."""
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

    # -- the queues' side -------------------------------------------------------------------

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

    def run_job(self, job: Job) -> Future[Outcome]:
        """A worker thread stages one queued unit; the job finishes when it is committed.

        The worker is free for the next unit as soon as this one is staged, so
        units staged meanwhile share its commit (the queues keep the job active
        until the returned future completes)."""
        work: _Work = job.payload

        def progress(done: int, total: int) -> None:
            job.progress(done, total)
            self._publish(events.Progress(str(work.unit.source), done, total))
            if job.cancelled.is_set():
                raise ImportCancelled("modeld is stopping")

        try:
            committed = self._importer.submit_unit(work.unit, copy=work.copy, progress=progress)
        except Exception as exc:  # a bug must cost one file, never the daemon
            committed = Future()
            committed.set_exception(exc)
        finished: Future[Outcome] = Future()
        committed.add_done_callback(lambda future: finished.set_result(self._finish(work, future)))
        return finished

    def _finish(self, work: _Work, committed: Future[Outcome]) -> Outcome:
        try:
            outcome = committed.result()
        except Exception as exc:
            log.error("import of %s crashed", work.unit.source, exc_info=exc)
            outcome = Failed(str(work.unit.source), f"internal error: {exc}")
            # the importer never got to report it: status and the tray still must
            self._publish(events.Failed(str(work.unit.source), outcome.reason))
        with self._inflight_lock:
            self._inflight.discard(work.unit.source)
        if work.watch is not None:
            for file in work.unit.files:
                self._finish_watched(file.path, outcome, work.watch)
        work.result.set_result(outcome)
        return outcome

    def _finish_watched(self, path: Path, outcome: Outcome, watch: WatchConfig) -> None:
        if isinstance(outcome, Waiting):
            self._hold(path, outcome.reason)
            return
        if isinstance(outcome, Failed):
            self._reported.add(path)  # said by whoever refused it
        if path.exists():
            self._ledger.record(path, outcome.status, getattr(outcome, "reason", ""))
        elif watch.mode == "move":
            prune_empty_folders(path.parent, watch.path)
        self.watch.done(path)


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
