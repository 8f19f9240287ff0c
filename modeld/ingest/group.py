"""Group commit: units staged by concurrent workers share one commit.

PostgreSQL's commit_delay/commit_siblings, in small: a worker that has staged
a unit queues it; when no commit is running it leads one. The leader waits a
few milliseconds, and only while other workers are still staging (a lone
worker never waits), then commits everything queued as one batch (one flush,
one journal entry, one index transaction) and hands each worker its outcome.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from modeld.ingest.outcomes import Failed, Outcome
from modeld.ingest.stage import StagedUnit

log = logging.getLogger(__name__)

WINDOW = 0.005  # seconds a leader waits for workers still staging
MAX_UNITS = 256


@dataclass
class _Slot:
    staged: StagedUnit
    outcome: Outcome | None = None


class GroupCommit:
    def __init__(
        self,
        commit: Callable[[list[StagedUnit]], list[Outcome]],
        *,
        window: float = WINDOW,
        max_units: int = MAX_UNITS,
    ):
        self._commit = commit
        self._window = window
        self._max_units = max_units
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []
        self._staging = 0  # workers staging a unit now: their units are worth waiting for
        self._leading = False

    @contextmanager
    def staging(self) -> Iterator[None]:
        """Around a worker's staging, so a leader knows more units are on their way."""
        with self._cond:
            self._staging += 1
        try:
            yield
        finally:
            with self._cond:
                self._staging -= 1
                self._cond.notify_all()

    def submit(self, staged: StagedUnit) -> Outcome:
        """Returns once the batch holding `staged` is committed (or rolled back)."""
        slot = _Slot(staged)
        with self._cond:
            self._queue.append(slot)
            self._cond.notify_all()
        while slot.outcome is None:
            self._lead_or_wait(slot)
        return slot.outcome

    def _lead_or_wait(self, slot: _Slot) -> None:
        with self._cond:
            if self._leading:
                self._cond.wait_for(lambda: slot.outcome is not None or not self._leading)
                return
            self._leading = True
            deadline = time.monotonic() + self._window
            while self._staging and len(self._queue) < self._max_units:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, self._queue = self._queue[: self._max_units], self._queue[self._max_units :]
        try:
            outcomes = self._commit([item.staged for item in batch])
        except Exception as exc:  # a bug costs this batch (recover() finishes it), never a hang
            log.exception("group commit of %d units failed", len(batch))
            outcomes = [Failed(str(i.staged.unit.source), f"internal error: {exc}") for i in batch]
        with self._cond:
            for item, outcome in zip(batch, outcomes, strict=True):
                item.outcome = outcome
            self._leading = False
            self._cond.notify_all()
