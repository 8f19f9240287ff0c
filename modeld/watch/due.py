"""When each tracked path is to be stat-ed next: a timetable the settle machine keeps.

A path's time moves often (every event of a streaming writer pushes it
back), so moving it must cost O(1): a later time only updates the record and
the heap item stays put (it is re-queued when it comes up early); an earlier
time pushes a new item and the old one is skipped as stale when it surfaces.
"""

from __future__ import annotations

import heapq
import itertools


class DueTimes:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str]] = []
        self._next: dict[str, float] = {}  # key -> when it is due
        self._queued: dict[str, float] = {}  # key -> time of its live item in the heap
        self._seq = itertools.count()  # keeps heap order stable among equal times

    def schedule(self, key: str, when: float) -> None:
        self._next[key] = when
        queued = self._queued.get(key)
        if queued is None or when < queued:
            self._push(key, when)

    def when(self, key: str) -> float:
        """The time `key` was last scheduled for."""
        return self._next[key]

    def forget(self, key: str) -> None:
        """`key` is no longer tracked: its heap items become stale."""
        self._next.pop(key, None)
        self._queued.pop(key, None)

    def pop_due(self, now: float) -> list[str]:
        """Keys whose time has come, each once; they stay known until scheduled again."""
        keys = []
        while self._heap and self._heap[0][0] <= now:
            when, _, key = heapq.heappop(self._heap)
            if self._queued.get(key) != when:
                continue  # superseded by a later schedule
            del self._queued[key]
            if self._next[key] > now:
                self._push(key, self._next[key])  # moved back since it was queued
            else:
                keys.append(key)
        return keys

    def next_wakeup(self) -> float | None:
        """The earliest time `pop_due` will have something (None: nothing scheduled)."""
        while self._heap:
            when, _, key = self._heap[0]
            if self._queued.get(key) == when:
                return when
            heapq.heappop(self._heap)
        return None

    def _push(self, key: str, when: float) -> None:
        self._queued[key] = when
        heapq.heappush(self._heap, (when, next(self._seq), key))
