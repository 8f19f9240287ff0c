"""Time for the hub's politeness machinery: a monotonic clock with an interruptible sleep.

The rate limiter, the circuit breaker and the retry loop all take a `Clock`,
so a daemon shutdown interrupts any wait at once and tests can run the same
code against a clock they advance by hand.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from modeld.hub.errors import Cancelled


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`; raises `Cancelled` if the owner stops meanwhile."""
        ...


class RealClock:
    def __init__(self, stop: threading.Event | None = None):
        self._stop = stop or threading.Event()

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if self._stop.wait(max(0.0, seconds)):
            raise Cancelled("stopping")
