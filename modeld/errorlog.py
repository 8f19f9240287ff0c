"""The daemon's errors since start, as `status` shows them: each names its path and reason.

Mostly files a watch refused or failed to import; also the daemon's own
troubles (a scheduled job that failed, an interrupted import finished at
start), which have no path. Bounded: the newest `limit` stay, so an inbox
of ten thousand refused files cannot grow the daemon without end.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ERRORS_KEPT = 200  # the contract promises at least the newest 50


@dataclass(frozen=True, slots=True)
class ErrorEntry:
    path: str | None  # None: not about one file
    reason: str
    time: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "reason": self.reason,
            "time": self.time.isoformat(timespec="seconds"),
        }


class ErrorLog:
    """Thread-safe: workers, the watch loop and the scheduler all report here."""

    def __init__(self, limit: int = ERRORS_KEPT):
        self._entries: deque[ErrorEntry] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, path: str | None, reason: str, when: float) -> None:
        entry = ErrorEntry(path, reason, datetime.fromtimestamp(when, UTC))
        with self._lock:
            self._entries.append(entry)

    def to_json(self) -> list[dict[str, Any]]:
        """Oldest first, as they happened."""
        with self._lock:
            entries = list(self._entries)
        return [entry.to_json() for entry in entries]
