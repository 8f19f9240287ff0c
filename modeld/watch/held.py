"""Why a watch holds a file back, in words a user can act on, and since when.

The settle machine knows each tracked file's phase on its own (monotonic)
clock; `status` shows them as `waiting` entries with wall-clock times. The
wording is chosen here, from plain facts, so it can be tested without a
machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Held:
    """A tracked file that is not handed out, on the machine's clock."""

    path: Path
    tag: Any
    reason: str
    since: float  # when the machine began tracking it
    until: float | None = None  # a parked (retry) file is reported as failed then


@dataclass(frozen=True, slots=True)
class WaitingFile:
    """A `status` `waiting` entry: wall-clock times, ready for JSON."""

    path: Path
    reason: str
    since: datetime
    until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "path": str(self.path),
            "reason": self.reason,
            "since": self.since.isoformat(timespec="seconds"),
        }
        if self.until is not None:
            document["until"] = self.until.isoformat(timespec="seconds")
        return document


def on_wall_clock(held: Held, now: float, wall_now: float) -> WaitingFile:
    """Turn the machine's times into wall-clock times, measured back from `now`.

    The machine runs on a monotonic clock (immune to clock changes); the
    offset between the two clocks is taken once, at the moment of asking.
    """

    def wall(when: float) -> datetime:
        return datetime.fromtimestamp(wall_now - (now - when), UTC)

    until = None if held.until is None else wall(held.until)
    return WaitingFile(held.path, held.reason, wall(held.since), until)


def hold_reason(
    *,
    retry_reason: str | None,
    ready: bool,
    size: int | None,
    sidecar: bool,
    open_writer: bool,
) -> str:
    """Why a file that is not handed out waits, most decisive cause first.

    `retry_reason` is the importer's reason for parking it (truncated, a
    shard set still arriving, unreadable for now); `size` and `sidecar` come
    from its last stat (None: not stat-ed since its last event).
    """
    if retry_reason is not None:
        return f"{retry_reason} (retried when it changes)"
    if ready:
        return "complete; waiting for room in the import queue"
    if sidecar:
        return "aria2 is still downloading it (its .aria2 control file exists)"
    if open_writer:
        return "still being written (a program has it open)"
    if size == 0:
        return "empty so far; waiting for its content"
    return "being checked for completeness (waiting until it stops changing)"
