"""The settle machine and the memory of handled files, behind the one lock the threads share.

Observer threads feed events, the loop thread stats and offers, the scanner
feeds what it finds, and the daemon reports outcomes; each step here is one
short critical section (O(1) per event, no I/O), so no thread holds another
up. Files whose content was handled and are still there (copy mode, refused
files) are remembered by (size, mtime, inode) and not offered again until
they change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeld.vocab.paths import is_within
from modeld.watch.events import EventKind, FileStat, Origin
from modeld.watch.held import Held
from modeld.watch.settle import SettleMachine
from modeld.watch.tracked import Expired, Ready


@dataclass(frozen=True, slots=True)
class Round:
    """What one pass of the loop found: files given up on, files to offer, room to refill."""

    expired: list[Expired]
    ready: list[Ready]
    refill: bool  # files were refused for capacity and there is room again: scan


class Tracker:
    def __init__(
        self, machine: SettleMachine, origins: Sequence[Origin], clock: Callable[[], float]
    ):
        self._machine = machine
        self._clock = clock
        self._lock = threading.Lock()
        self._origins = list(origins)
        self._excluded: list[list[str]] = [[] for _ in self._origins]
        self._handled: dict[str, tuple[int, int, int]] = {}  # path -> fingerprint

    # -- a watch ---------------------------------------------------------------------------

    def restart(self, index: int, origin: Origin, excluded: list[str]) -> None:
        """A watch (re)started: its new origin and exclusions."""
        with self._lock:
            self._origins[index] = origin
            self._excluded[index] = excluded
            self._machine.rebind(index, origin, self._clock())

    def excluded(self, index: int) -> list[str]:
        # replaced, never changed in place: reading it needs no lock
        return self._excluded[index]

    def scan_setup(self, index: int) -> tuple[list[str], Origin]:
        with self._lock:
            return list(self._excluded[index]), self._origins[index]

    def event(
        self, index: int, kind: EventKind, src: Path | None, dest: Path | None
    ) -> float | None:
        with self._lock:
            origin = self._origins[index]
            return self._machine.event(kind, src, self._clock(), origin=origin, dest=dest)

    def feed(self, batch: list[tuple[Path, FileStat]], origin: Origin) -> float | None:
        """Files a scan found; returns the machine's next wakeup."""
        with self._lock:
            now = self._clock()
            for path, stat in batch:
                if self._handled.get(str(path)) == stat.fingerprint:
                    continue
                self._machine.seen(path, stat, now, origin=origin)
            return self._machine.next_wakeup()

    def forget_missing(self, root: Path, present: set[str]) -> None:
        """A full scan of `root` found these files: handled files not among them are gone."""
        with self._lock:
            gone = [k for k in self._handled if is_within(k, str(root)) and k not in present]
            for key in gone:
                del self._handled[key]

    # -- the loop --------------------------------------------------------------------------

    def due(self, now: float) -> list[Path]:
        with self._lock:
            return self._machine.due(now)

    def settle(
        self, stats: list[tuple[Path, FileStat | None]], offer_after: float, limit: int
    ) -> Round:
        """Feed the stats taken; take what expired and (from `offer_after` on) what is ready."""
        with self._lock:
            now = self._clock()
            for path, stat in stats:
                self._machine.observe(path, stat, now)
            expired = self._machine.expired()
            ready = self._machine.ready(limit) if now >= offer_after else []
            for item in expired:
                self._handled[str(item.path)] = item.stat.fingerprint
            refill = self._machine.overflowed and len(self._machine) < (self._machine.capacity // 2)
            if refill:
                self._machine.overflowed = False
        return Round(expired, ready, refill)

    def hand_out(self, item: Ready) -> bool:
        """Take a ready file for the caller; False when it was handled or changed meanwhile."""
        path = item.path
        with self._lock:
            if self._handled.get(str(path)) == item.stat.fingerprint:
                self._machine.discard(path)
                return False
            if not self._machine.is_ready(path):
                return False  # changed or vanished since the list was taken
            self._machine.hand_out(path)
            return True

    def give_back(self, path: Path) -> None:
        with self._lock:
            self._machine.give_back(path, self._clock())

    def next_wakeup(self) -> tuple[float | None, bool]:
        """The machine's next wakeup, and whether files wait to be offered."""
        with self._lock:
            return self._machine.next_wakeup(), self._machine.has_ready()

    # -- the daemon's side -----------------------------------------------------------------

    def done(self, path: Path, stat: FileStat | None) -> None:
        with self._lock:
            remembered = self._machine.done(path, stat, self._clock())
            if remembered is not None:
                self._handled[str(path)] = remembered.fingerprint
            else:
                self._handled.pop(str(path), None)

    def retry_later(self, path: Path, reason: str) -> bool:
        with self._lock:
            return self._machine.retry_later(path, reason, self._clock())

    # -- status ----------------------------------------------------------------------------

    def counts_by_tag(self) -> dict[Any, dict[str, int]]:
        with self._lock:
            return self._machine.counts_by_tag()

    def held(self, wall_clock: Callable[[], float]) -> tuple[list[Held], float, float]:
        """The held files, with the machine's time and the wall-clock time of asking."""
        with self._lock:
            return self._machine.held(), self._clock(), wall_clock()
