"""What the settle machine is fed: file-system events, stats, and where they come from.

The observers turn watchdog's events into `EventKind`s, the scans and probes
turn `os.stat` results into `FileStat`s, and each watch is an `Origin`. These
are plain values, so the machine stays pure and tests build them by hand.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class EventKind(enum.Enum):
    CREATED = "created"
    MODIFIED = "modified"  # data written (IN_MODIFY); attribute changes are not events here
    CLOSED = "closed"  # closed after writing (IN_CLOSE_WRITE)
    MOVED = "moved"  # src -> dest; either side may lie outside the watch (empty)
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class FileStat:
    size: int
    mtime_ns: int
    ino: int
    sidecar: bool = False  # `<name>.aria2` exists next to it

    @property
    def fingerprint(self) -> tuple[int, int, int]:
        """What identifies this version of the file's content (without the sidecar)."""
        return (self.size, self.mtime_ns, self.ino)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where events and scans of a watch come from."""

    root: Path
    closes: bool  # the source reports close-after-write (Linux inotify)
    tag: Any = None  # handed back with ready paths (the service passes its WatchConfig)
