"""The scans modeld starts itself: which watches want one, and a thread that runs them.

Start-up, a watch (re)appearing, an inotify overflow and freed capacity each
ask for a scan of one watch (or all); asking again before it ran costs
nothing, and the lowest watch index goes first. The scheduler's periodic
rescan runs in its own thread and is counted here too, so tests and start-up
can wait for "n scans done".
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class ScanRequests:
    def __init__(self, scan: Callable[[int], None], watches: int, stopping: threading.Event):
        self._scan = scan  # scans one watch and calls `finished` (whatever happens)
        self._watches = watches
        self._stopping = stopping
        self._wanted: set[int] = set()
        self._wake = threading.Event()
        self._done = 0
        self._cond = threading.Condition()

    def request(self, index: int | None = None) -> None:
        """Ask for a scan of one watch (or all) and return at once."""
        with self._cond:
            if index is None:
                self._wanted.update(range(self._watches))
            else:
                self._wanted.add(index)
        self._wake.set()

    def finished(self) -> None:
        """A scan completed (asked for here or run by the scheduler)."""
        with self._cond:
            self._done += 1
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until `count` scans have completed since start."""
        with self._cond:
            return self._cond.wait_for(lambda: self._done >= count, timeout)

    def wake(self) -> None:
        """Let the thread see `stopping`."""
        self._wake.set()

    def run(self) -> None:
        """The scanner thread: run what is wanted, then sleep until asked again."""
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            while not self._stopping.is_set():
                with self._cond:
                    if not self._wanted:
                        break
                    index = min(self._wanted)
                    self._wanted.discard(index)
                self._scan(index)
