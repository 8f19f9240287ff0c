"""Client-side rate limit: never more than N calls in any sliding window, plus server pauses.

The Hub counts API calls per 5-minute window and answers 429 when a client
goes over. We stay well under it on our own (default 60 calls a minute, from
`hub.calls_per_minute`), and we also listen to what the server says:

- `Retry-After` on a 429, and `RateLimit: "api";r=<left>;t=<reset>` with
  r=0, pause every call until the window resets;
- when fewer than 10% of the window's quota (`RateLimit-Policy: ...;q=<quota>`)
  remain, calls are spread evenly over the rest of the window instead of
  spending the remainder in one burst.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from modeld.hub.clock import Clock, RealClock
from modeld.hub.errors import RateLimited

LOW_QUOTA_FRACTION = 0.1


@dataclass(frozen=True)
class ServerQuota:
    """What a `RateLimit` / `RateLimit-Policy` header pair said."""

    remaining: int
    reset_in: float
    quota: int | None = None


class RateLimiter:
    def __init__(self, calls: int, period: float = 60.0, clock: Clock | None = None):
        if calls < 1:
            raise ValueError("calls must be at least 1")
        self.calls = calls
        self.period = period
        self._clock = clock or RealClock()
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._spacing = 0.0  # minimum gap between calls while the server quota is low
        self._spacing_until = 0.0

    def acquire(self, max_wait: float) -> float:
        """Take a call slot, waiting for one if needed; returns the seconds waited.

        Raises `RateLimited` instead of waiting longer than `max_wait`.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock.now()
                wait = self._wait_locked(now)
                if wait <= 0:
                    self._sent.append(now)
                    return waited
            if wait > max_wait:
                raise RateLimited(wait)
            self._clock.sleep(wait)
            waited += wait

    def delay(self) -> float:
        """Seconds until a call would be allowed (0 when one is free now)."""
        with self._lock:
            return max(0.0, self._wait_locked(self._clock.now()))

    def pause_for(self, seconds: float) -> None:
        """Hold every call for `seconds` (the server asked us to)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock.now() + seconds)

    def observe(self, quota: ServerQuota) -> None:
        """Adjust to the server's view of our remaining quota."""
        if quota.remaining <= 0:
            self.pause_for(quota.reset_in)
            return
        with self._lock:
            now = self._clock.now()
            if quota.quota and quota.remaining < quota.quota * LOW_QUOTA_FRACTION:
                self._spacing = quota.reset_in / quota.remaining
                self._spacing_until = now + quota.reset_in
            else:
                self._spacing = 0.0

    def _wait_locked(self, now: float) -> float:
        while self._sent and self._sent[0] <= now - self.period:
            self._sent.popleft()
        waits = [self._paused_until - now]
        if len(self._sent) >= self.calls:
            waits.append(self._sent[0] + self.period - now)
        if self._spacing and now < self._spacing_until and self._sent:
            waits.append(self._sent[-1] + self._spacing - now)
        return max(waits)
