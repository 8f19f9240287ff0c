"""Group commit: units staged by concurrent workers share one commit.

Workers stage units and queue them here; a committer thread commits whatever
is queued as one batch (one flush, one journal entry, one index transaction),
while the workers stage the next units. No timer is needed: the longer a
commit takes (the flush), the more units are ready for the next one, as with
PostgreSQL's group commit. Each unit gets a future that completes once its
batch is committed or rolled back.

The thread starts with the first unit, leaves after a second idle, and is
not a daemon thread, so an exiting process still commits what it staged.
The queue is bounded: a worker waits when the committer falls behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

from modeld.ingest.outcomes import Failed, Outcome
from modeld.ingest.stage import StagedUnit

log = logging.getLogger(__name__)

MAX_UNITS = 256  # per batch
MAX_QUEUED = 1024  # staged and not committed, across all workers
IDLE_SECONDS = 1.0

Commit = Callable[[list[StagedUnit]], list[Outcome]]


class GroupCommit:
    def __init__(self, commit: Commit, *, max_units: int = MAX_UNITS, max_queued: int = MAX_QUEUED):
        self._commit = commit
        self._max_units = max_units
        self._max_queued = max_queued
        self._cond = threading.Condition()
        self._queue: list[tuple[StagedUnit, Future[Outcome]]] = []
        self._thread: threading.Thread | None = None

    def submit(self, staged: StagedUnit) -> Future[Outcome]:
        """Queue a staged unit; its future completes when its batch is committed."""
        result: Future[Outcome] = Future()
        with self._cond:
            self._cond.wait_for(lambda: len(self._queue) < self._max_queued)
            self._queue.append((staged, result))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="modeld-commit")
                self._thread.start()
            self._cond.notify_all()
        return result

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._queue, IDLE_SECONDS):
                    self._thread = None
                    return
                batch = self._queue[: self._max_units]
                del self._queue[: self._max_units]
                self._cond.notify_all()  # room for a waiting worker
            try:
                outcomes = self._commit([staged for staged, _ in batch])
            except Exception as exc:  # a bug costs this batch (recover() finishes it), no hang
                log.exception("group commit of %d units failed", len(batch))
                outcomes = [Failed(str(s.unit.source), f"internal error: {exc}") for s, _ in batch]
            for (_, result), outcome in zip(batch, outcomes, strict=True):
                result.set_result(outcome)
