"""Fan-out of daemon events to subscribers (the tray, `modeld` clients).

Subscribers get bounded queues: a slow reader loses old events rather than
growing the daemon's memory. Progress events are throttled per path.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

SUBSCRIBER_QUEUE = 1000
PROGRESS_INTERVAL = 0.25  # at most four progress events a second per file


class EventBus:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[dict[str, Any]]] = []
        self._last_progress: dict[str, float] = {}
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def listen(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """In-process listeners (status counters) see every event, unthrottled."""
        self._listeners.append(listener)

    def subscribe(self) -> queue.Queue[dict[str, Any]]:
        subscription: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=SUBSCRIBER_QUEUE)
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: queue.Queue[dict[str, Any]]) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    def publish(self, event: dict[str, Any]) -> None:
        for listener in self._listeners:
            listener(event)
        if not self._should_send(event):
            return
        event = {"time": time.time(), **event}
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            while True:
                try:
                    subscription.put_nowait(event)
                    break
                except queue.Full:
                    with contextlib.suppress(queue.Empty):
                        subscription.get_nowait()  # drop the oldest

    def _should_send(self, event: dict[str, Any]) -> bool:
        kind = event.get("event")
        path = str(event.get("path", ""))
        if kind != "progress":
            if kind in ("imported", "failed", "duplicate", "quarantined"):
                self._last_progress.pop(path, None)
            return True
        now = self._clock()
        finished = event.get("done") == event.get("total")
        if not finished and now - self._last_progress.get(path, -1e9) < PROGRESS_INTERVAL:
            return False
        self._last_progress[path] = now
        return True
