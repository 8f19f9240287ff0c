"""An inotify overflow is noticed from watchdog's log line, while the listener is attached."""

from __future__ import annotations

import logging

from modeld.watch.overflow import OVERFLOW_LOGGER, OverflowListener


def test_the_overflow_line_calls_back_and_other_lines_do_not():
    calls: list[int] = []
    listener = OverflowListener(lambda: calls.append(1))
    logger = logging.getLogger(OVERFLOW_LOGGER)
    listener.attach()
    try:
        logger.warning("Inotify queue overflowed: some events may be lost")
        logger.warning("something else")
    finally:
        listener.detach()
    logger.warning("Inotify queue overflowed: some events may be lost")
    assert calls == [1]
