"""Imports in flight: progress samples, a smoothed speed, and the tooltip lines about them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from modeld.tray.wording import NAME_MAX, duration, middle_clip, rate

SPEED_SMOOTHING = 0.3  # weight of the newest sample in the moving average


@dataclass
class ActiveImport:
    path: str
    done: int
    total: int
    sample_time: float | None = None  # time of the last progress sample
    speed: float | None = None  # bytes per second, smoothed

    def sample(self, done: int, total: int, when: float) -> None:
        """A progress report: `done` of `total` bytes read at `when`."""
        if self.sample_time is not None and when > self.sample_time and done >= self.done:
            speed = (done - self.done) / (when - self.sample_time)
            self.speed = (
                speed
                if self.speed is None
                else (SPEED_SMOOTHING * speed + (1 - SPEED_SMOOTHING) * self.speed)
            )
        if done < self.done:  # the job restarted (e.g. a re-read): old samples say nothing
            self.speed = None
        self.done, self.total, self.sample_time = done, total or self.total, when

    def percent(self) -> str:
        if self.total <= 0:
            return ""
        return f"{min(100, self.done * 100 // self.total)}%"


def progress_lines(active: Mapping[str, ActiveImport], queued: int) -> list[str]:
    """The tooltip's lines while importing: the first file's progress, then the rest."""
    job = next(iter(active.values()))
    name = middle_clip(os.path.basename(job.path) or job.path, NAME_MAX)
    lines = [f"{name} {job.percent()}".rstrip()]
    if job.speed:
        details = f"{rate(job.speed)}"
        if job.total > job.done:
            details += f", {duration((job.total - job.done) / job.speed)} left"
        lines.append(details)
    others = len(active) - 1
    tail = []
    if others:
        tail.append(f"{others} more importing")
    if queued:
        tail.append(f"{queued} queued")
    if tail:
        lines.append(", ".join(tail))
    return lines
