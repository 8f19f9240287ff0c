"""What `status` reports: the counters and errors the daemon keeps, and the document.

The counters, the recent imports and the errors are written by worker, hub
and scheduler threads and read by status requests, so they change under one
lock (`+=` is a read and a write: two workers could lose a count).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modeld.config import Config
from modeld.control import events
from modeld.errorlog import ErrorLog
from modeld.ingest.quarantine import count_quarantine
from modeld.library import db as index_db
from modeld.links import LinkManager
from modeld.queues import DeviceQueues
from modeld.watch import WatchService

if TYPE_CHECKING:  # imported only when the Hub is enabled (httpx and friends)
    from modeld.hub import HubEnricher

log = logging.getLogger(__name__)

RECENT = 10  # the newest imports status lists


@dataclass
class Counts:
    """Since the daemon started."""

    imported: int = 0
    duplicates: int = 0
    quarantined: int = 0
    failed: int = 0


class StatusBoard:
    """Counts every event it observes (an EventBus listener) and keeps the errors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = Counts()
        self._recent: list[dict[str, Any]] = []
        self.errors = ErrorLog()

    def observe(self, event: events.Event) -> None:
        match event:
            case events.Imported(path=path, model=model):
                log.info(
                    "imported %s as %s (%s/%s)",
                    path,
                    model["id"],
                    model["model_type"],
                    model["family"],
                )
                with self._lock:
                    self._counts.imported += 1
                    self._recent = [model, *self._recent][:RECENT]
            case events.Duplicate(path=path, id=model_id):
                log.info("duplicate of %s: %s", model_id, path)
                with self._lock:
                    self._counts.duplicates += 1
            case events.Quarantined(path=path, reason=reason):
                log.warning("quarantined %s: %s", path, reason)
                with self._lock:
                    self._counts.quarantined += 1
            case events.Failed(path=path, reason=reason):
                with self._lock:
                    self._counts.failed += 1
                self.note_error(reason, path=path)

    def note_error(self, reason: str, *, path: str | None = None) -> None:
        """Keep an error for `status` (from any thread); `path` when it is about one file."""
        self.errors.add(path, reason, time.time())

    def counts(self) -> Counts:
        with self._lock:
            return replace(self._counts)

    def recent(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._recent)


def status_document(
    config: Config,
    board: StatusBoard,
    *,
    queues: DeviceQueues,
    watch: WatchService,
    links: LinkManager,
    hub: HubEnricher | None,
    library_online: bool,
) -> dict[str, Any]:
    """The contract's `status` reply."""
    counts = board.counts()
    return {
        "state": "paused" if queues.paused else "running",
        "pid": os.getpid(),
        "watching": watch.watching(),
        "queues": queues.snapshot(),
        "imported": counts.imported,
        "duplicates": counts.duplicates,
        # what waits for the user in the quarantine folder, not a session count
        "quarantined": count_quarantine(config.quarantine_dir),
        "quarantined_since_start": counts.quarantined,
        "failed": counts.failed,
        "links": links.counts(),
        "errors": board.errors.to_json(),
        "waiting": [item.to_json() for item in watch.waiting()],
        "recent": board.recent(),
        "imported_today": imported_today(),
        "library": {"root": str(config.library_root), "online": library_online},
        "hub": hub.status() if hub is not None else {"state": "disabled"},
        "quarantine_dir": str(config.quarantine_dir),
        "drop_folders": [str(w.path) for w in config.watches],
    }


def imported_today() -> int:
    midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        index_db.ModelRecord.select()
        .where(index_db.ModelRecord.imported_at >= midnight.timestamp())
        .count()
    )


def status_line(board: StatusBoard, queues: DeviceQueues) -> str:
    """The one line systemd shows (`systemctl status`)."""
    pending = sum(q["pending"] + len(q["active"]) for q in queues.snapshot())
    state = "paused" if queues.paused else "watching"
    return f"{state}; {pending} queued; {board.counts().imported} imported"
