"""SIGTERM and SIGINT for the daemon's main thread, without a lock in sight.

A Python signal handler runs on the main thread, between two bytecodes of
whatever it was doing. The signal module's documentation warns that locks
"should not be used within signal handlers. Doing so can lead to unexpected
deadlocks": a handler that sets a `threading.Event` blocks forever when the
signal lands while the main thread holds that Event's internal lock (inside
its own `wait()`), and the daemon never stops. (One CI run saw a daemon that
never acknowledged a SIGTERM; the cause was not reproduced, but this is the
documented way for that to happen.)

So the handler only records the signal. `signal.set_wakeup_fd` has the C-level
handler write a byte to a pipe, which wakes the `select()` the main loop
sleeps in.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Install once, on the main thread; then `wait()` until a stop signal came."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def install(self) -> None:
        signal.set_wakeup_fd(self._write)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.received = signum  # a plain store: no lock, nothing that could block

    def wait(self, timeout: float) -> bool:
        """True once a stop signal has arrived; otherwise after `timeout` seconds, False."""
        if self.received is None:
            select.select([self._read], [], [], timeout)
            with contextlib.suppress(BlockingIOError):
                while os.read(self._read, 512):
                    pass
        return self.received is not None
