"""One file the settle machine tracks, and what it reports about such files.

A tracked file is SETTLING (waiting for a quiet run), HANDED (the caller has
it) or RETRY (parked until it changes). The machine moves it between phases;
this module holds its record and words the reports: `Ready` (settled, take
it), `Expired` (parked too long unchanged) and `Held` (waiting, with why).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeld.watch.events import FileStat, Origin
from modeld.watch.held import Held, hold_reason


class Phase(enum.Enum):
    SETTLING = "settling"
    HANDED = "handed"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class Ready:
    path: Path
    tag: Any
    stat: FileStat


@dataclass(frozen=True, slots=True)
class Expired:
    """A file that waited for `truncated_grace` without changing after `retry_later`."""

    path: Path
    tag: Any
    reason: str
    stat: FileStat


@dataclass(slots=True)
class TrackedFile:
    origin: Origin
    since: float  # first tracked: a file held back shows since when
    phase: Phase = Phase.SETTLING
    run_stat: FileStat | None = None  # the stat that opened the current run
    run_since: float = 0.0
    writing: bool = False  # a write seen and no close after it
    signalled: bool = False  # a completion signal and no write after it
    handed_stat: FileStat | None = None
    changed: bool = False  # an event arrived while HANDED
    retry_reason: str = ""
    retry_deadline: float = 0.0

    def held(self, path: Path, *, ready: bool) -> Held:
        """Why this file waits (it is not HANDED: the caller does not have it)."""
        retry = self.phase is Phase.RETRY
        stat = self.handed_stat if retry else self.run_stat
        reason = hold_reason(
            retry_reason=self.retry_reason if retry else None,
            ready=ready,
            size=None if stat is None else stat.size,
            sidecar=stat is not None and stat.sidecar,
            open_writer=self.writing and self.origin.closes,
        )
        until = self.retry_deadline if retry else None
        return Held(path, self.origin.tag, reason, self.since, until)
