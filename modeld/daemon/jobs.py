"""The daemon's scheduled work, and the link sync it runs once at start.

Each job runs on a scheduler thread; a raised exception goes to `note_error`
(status), never further. The scheduler remembers each job's last run in the
index, so an interval spans restarts and suspends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from peewee import Database

from modeld.config import Config
from modeld.control import events
from modeld.library import db as index_db
from modeld.library.layout import library_available
from modeld.library.verify import verify_models
from modeld.links import LinkManager
from modeld.scheduler import build_scheduler

if TYPE_CHECKING:  # imported only when the Hub is enabled (httpx and friends)
    from modeld.hub import HubEnricher

log = logging.getLogger(__name__)

VERIFY_BUDGET = 600.0  # seconds of re-hashing per run: it never hogs a disk


class Jobs:
    def __init__(
        self,
        config: Config,
        db: Database,
        links: LinkManager,
        *,
        publish: Callable[[events.Event], None],
        note_error: Callable[..., None],
        stopping: threading.Event,
    ):
        self._config = config
        self._db = db
        self._links = links
        self._publish = publish
        self._note_error = note_error
        self._stopping = stopping  # set once the daemon's main loop has ended

    def scheduler(self, rescan: Callable[[], None], hub: HubEnricher | None) -> BackgroundScheduler:
        config = self._config
        jobs: dict[str, tuple[float, Callable[[], object]]] = {
            "rescan": (config.daemon.rescan_minutes * 60, rescan),
            "wal-checkpoint": (3600.0, self.checkpoint),
            "verify": (config.daemon.verify_hours * 3600, self.verify_some),
            "links-repair": (config.links.repair_minutes * 60, self.repair_links),
        }
        if hub is not None:
            jobs["hub-retry"] = (config.hub.retry_minutes * 60, hub.retry_pending)
        # the watches' catch-up scan, started just before, is the overdue rescan
        return build_scheduler(jobs, on_error=self._note_error, done_at_start={"rescan"})

    def initial_link_sync(self) -> None:
        """A full reconcile at start: a new [[app]] gets the whole library, a removed one
        loses its links, a moved library or app is followed."""
        try:
            report = self._links.sync_all()
            log.info("links: start-up sync done: %s", _summary(report))
        except Exception:
            log.exception("links: start-up sync failed")

    def checkpoint(self) -> None:
        self._db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def repair_links(self) -> None:
        if not library_available(self._config.library_root):
            return  # an unmounted library is not an empty one: touch nothing
        report = self._links.repair()
        self._publish(events.LinksRepaired(report.get("fixed", 0), report.get("unfixed", 0)))

    def verify_some(self) -> None:
        """Re-hash the least recently verified models, time-boxed so it never hogs a disk."""
        budget_end = time.monotonic() + VERIFY_BUDGET
        cursor = index_db.get_state("verify.cursor", "")
        query = (
            index_db.ModelRecord.select()
            .where(index_db.ModelRecord.model_id > cursor)
            .order_by(index_db.ModelRecord.model_id)
        )
        for record in query.iterator():
            if self._stopping.is_set() or time.monotonic() > budget_end:
                return
            report = verify_models(self._config.library_root, [record])
            for item in report["mismatched"] + report["missing"]:
                self._note_error("changed or missing in the library (verify)", path=item["path"])
            index_db.set_state("verify.cursor", record.model_id)
        index_db.set_state("verify.cursor", "")


def _summary(report: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in report.items() if isinstance(v, int))
