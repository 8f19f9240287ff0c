"""A one-line progress bar on stderr, shown only on a terminal (never in --json)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    def __init__(self, enabled: bool, stream: TextIO = sys.stderr):
        self.enabled = enabled
        self.stream = stream
        self.label = ""
        self.total = 0
        self.started = 0.0
        self._last_draw = 0.0

    def start(self, label: str, total: int) -> None:
        self.finish()  # the previous file's line, if one was drawn
        self.label, self.total, self.started = label, total, time.monotonic()

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and done < total:
            return
        self._last_draw = now
        fraction = done / total if total else 1.0
        width = 30
        bar = "#" * int(fraction * width)
        speed = done / max(now - self.started, 1e-6) / 1e6
        label = self.label[:40]
        self.stream.write(f"\r{label:<40} [{bar:<{width}}] {fraction:6.1%} {speed:7.1f} MB/s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._last_draw:
            self.stream.write("\n")
            self.stream.flush()
            self._last_draw = 0.0
