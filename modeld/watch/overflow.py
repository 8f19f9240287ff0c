"""Noticing that inotify dropped events, which watchdog only writes to its log (#654).

After an overflow the events are lost for good; the only repair is a scan of
the inotify watches, so the service listens for that one log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

OVERFLOW_LOGGER = "watchdog.observers.inotify_c"


class OverflowListener(logging.Handler):
    """Calls `on_overflow` when watchdog logs an inotify queue overflow."""

    def __init__(self, on_overflow: Callable[[], None]):
        super().__init__(level=logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Inotify queue overflowed"):
            self._on_overflow()

    def attach(self) -> None:
        logging.getLogger(OVERFLOW_LOGGER).addHandler(self)

    def detach(self) -> None:
        logging.getLogger(OVERFLOW_LOGGER).removeHandler(self)
