"""Fan-out of daemon events to subscribers (the tray, `modeld` clients).

In-process listeners get the typed event; subscribers get its JSON, made once
per event. Subscribers get bounded queues: a slow reader loses old events
rather than growing the daemon's memory. Progress events are throttled per path.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from modeld.control.events import FINISHED, Event, Progress

SUBSCRIBER_QUEUE = 1000
PROGRESS_INTERVAL = 0.25  # at most four progress events a second per file


class EventBus:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[dict[str, Any]]] = []
        self._last_progress: dict[str, float] = {}
        self._listeners: list[Callable[[Event], None]] = []

    def listen(self, listener: Callable[[Event], None]) -> None:
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

    def publish(self, event: Event) -> None:
        for listener in self._listeners:
            listener(event)
        if not self._should_send(event):
            return
        message = {"time": time.time(), **event.to_json()}
        with self._lock:
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            while True:
                try:
                    subscription.put_nowait(message)
                    break
                except queue.Full:
                    with contextlib.suppress(queue.Empty):
                        subscription.get_nowait()  # drop the oldest

    def _should_send(self, event: Event) -> bool:
        if not isinstance(event, Progress):
            if isinstance(event, FINISHED):
                self._last_progress.pop(event.path, None)
            return True
        now = self._clock()
        finished = event.done == event.total
        if not finished and now - self._last_progress.get(event.path, -1e9) < PROGRESS_INTERVAL:
            return False
        self._last_progress[event.path] = now
        return True
