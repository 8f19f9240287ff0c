"""A circuit breaker per endpoint: stop calling a service that keeps failing.

closed     calls flow; `threshold` consecutive failures open the circuit.
open       no calls at all until the cool-down has passed.
half_open  exactly one trial call is let through: success closes the
           circuit, failure opens it again with a doubled cool-down (capped),
           so a long outage costs one connection attempt per cool-down.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from modeld.hub.clock import Clock, RealClock
from modeld.hub.errors import CircuitOpen

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        endpoint: str,
        *,
        threshold: int = 3,
        cooldown: float = 60.0,
        max_cooldown: float = 900.0,
        clock: Clock | None = None,
        on_change: Callable[[str, str], None] | None = None,
    ):
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.endpoint = endpoint
        self.threshold = threshold
        self.base_cooldown = cooldown
        self.max_cooldown = max(cooldown, max_cooldown)
        self._clock = clock or RealClock()
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._cooldown = cooldown
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def retry_in(self) -> float | None:
        """Seconds until a call may be tried again; None when calls flow."""
        with self._lock:
            if self._state == CLOSED:
                return None
            return max(0.0, self._opened_at + self._cooldown - self._clock.now())

    def before_call(self) -> None:
        """Raise `CircuitOpen` unless a call may go out now (taking the trial slot if half-open)."""
        with self._lock:
            if self._state == CLOSED:
                return
            now = self._clock.now()
            wait = self._opened_at + self._cooldown - now
            if self._state == OPEN and wait <= 0:
                self._state = HALF_OPEN
                self._trial_in_flight = False
            if self._state == HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                return
            raise CircuitOpen(self.endpoint, max(0.0, wait))

    def record_success(self) -> None:
        with self._lock:
            previous = self._state
            self._state = CLOSED
            self._failures = 0
            self._cooldown = self.base_cooldown
            self._trial_in_flight = False
        self._notify(previous, CLOSED)

    def record_failure(self) -> None:
        with self._lock:
            previous = self._state
            self._failures += 1
            if previous == HALF_OPEN:
                self._cooldown = min(self.max_cooldown, self._cooldown * 2)
            if previous == HALF_OPEN or self._failures >= self.threshold:
                self._state = OPEN
                self._opened_at = self._clock.now()
            self._trial_in_flight = False
            current = self._state
        self._notify(previous, current)

    def release_trial(self) -> None:
        """The trial call ended without telling us anything (e.g. cancelled): let another try."""
        with self._lock:
            self._trial_in_flight = False

    def _notify(self, previous: str, current: str) -> None:
        # Only the edges between "calls flow" and "calls stopped" matter to listeners;
        # open <-> half_open is the breaker's own business.
        if self._on_change and (previous == CLOSED) != (current == CLOSED):
            self._on_change(self.endpoint, current)
