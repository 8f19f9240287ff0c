"""What the tray shows, worked out from the daemon's status and events.

Pure: no I/O, no clock, no threads. The app feeds in status snapshots and
events with the current time and reads back the icon state, the tooltip, the
menu model and the notifications that are due. Everything a user sees from the
tray is decided here, so it is all tested without a display.

Status snapshots follow the contract's `status --json` plus the tray fields
("recent", "imported_today", "library", "hub", "quarantine_dir",
"drop_folders"); events follow modeld.control.protocol.

The model keeps the picture and decides; the pieces it shows are built
beside it: menu.py (menu entries), notices.py (notification texts),
progress.py (imports in flight), wording.py (counts, sizes, durations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from modeld.tray.menu import (
    RECENT_LIMIT,
    SEPARATOR,
    Action,
    MenuEntry,
    drop_folder_entry,
    errors_entry,
    hub_line,
    recent_entry,
    waiting_entry,
)
from modeld.tray.notices import (
    ImportBatch,
    Notification,
    batch_notifications,
    library_notification,
    links_repaired_notification,
)
from modeld.tray.progress import ActiveImport, progress_lines
from modeld.tray.wording import as_int, clip, count, duration, error_text

# Notifications about one burst of drops are held until the daemon has nothing
# left to do and has been quiet this long...
BATCH_QUIET_SECONDS = 2.0
# ...but never longer than this, so a long session still reports as it goes.
BATCH_MAX_HOLD_SECONDS = 300.0
# Windows caps tooltips at 127 characters; staying under it keeps every backend alike.
TOOLTIP_MAX = 127


class IconState(StrEnum):
    IDLE = "idle"
    IMPORTING = "importing"
    PAUSED = "paused"
    ATTENTION = "attention"
    DISCONNECTED = "disconnected"


# events after which the counts in the status (queue length, totals) have changed
_REFRESH_AFTER = frozenset(
    {
        "state",
        "import_started",
        "imported",
        "duplicate",
        "quarantined",
        "failed",
        "waiting",  # a file was parked: the status lists it
        "links_repaired",
        "library",
    }
)


class TrayModel:
    """The tray's picture of the daemon."""

    def __init__(
        self,
        *,
        library_root: str,
        quarantine_dir: str,
        drop_folders: Sequence[str] = (),
        batch_quiet: float = BATCH_QUIET_SECONDS,
        batch_max_hold: float = BATCH_MAX_HOLD_SECONDS,
    ):
        self.library_root = library_root
        self.quarantine_dir = quarantine_dir
        self.drop_folders: tuple[str, ...] = tuple(drop_folders)
        self.batch_quiet = batch_quiet
        self.batch_max_hold = batch_max_hold

        self.connected = False
        self.ever_connected = False
        self.retry_at: float | None = None
        self.paused = False
        self.queued = 0
        self.active: dict[str, ActiveImport] = {}
        self.imported_today = 0
        self.quarantined = 0
        self.quarantine_seen: int | None = None  # count when the user last opened the folder
        self.links_bad = 0  # broken + missing
        self.links_unfixed = 0  # from the last repair run
        self.errors: list[str] = []
        self.errors_seen: set[str] = set()  # errors the user has dismissed
        self.waiting: list[str] = []  # files the watches hold back, with why
        self.library_online: bool | None = None
        self.hub_online: bool | None = None
        self.hub_retry_at: float | None = None
        self.recent: list[Mapping[str, Any]] = []
        self._batch: ImportBatch | None = None
        self._pending: list[Notification] = []
        # events applied, besides progress: a status snapshot asked for at an older
        # generation may predate one of them (a pause) and must not undo it
        self.generation = 0

    # ---- input -------------------------------------------------------------

    def apply_status(self, status: Mapping[str, Any], now: float) -> None:
        """A status snapshot: after (re)connecting, and after events that change counts."""
        self.connected = True
        self.ever_connected = True
        self.retry_at = None
        self.paused = status.get("state") == "paused"
        queues = status.get("queues") or []
        self.queued = sum(as_int(q.get("pending")) for q in queues)
        seen: set[str] = set()
        for queue in queues:
            for job in queue.get("active") or []:
                path = str(job.get("path", ""))
                seen.add(path)
                self._progress(path, as_int(job.get("done")), as_int(job.get("total")), now)
        for path in list(self.active):
            if path not in seen:
                del self.active[path]
        self.imported_today = as_int(status.get("imported_today", self.imported_today))
        self.quarantined = as_int(status.get("quarantined", self.quarantined))
        if self.quarantine_seen is not None:
            self.quarantine_seen = min(self.quarantine_seen, self.quarantined)
        links = status.get("links") or {}
        self.links_bad = as_int(links.get("broken")) + as_int(links.get("missing"))
        if self.links_bad == 0:
            self.links_unfixed = 0
        self.errors = [error_text(e) for e in status.get("errors") or []]
        self.waiting = [error_text(w) for w in status.get("waiting") or []]
        library = status.get("library") or {}
        if library.get("root"):
            self.library_root = str(library["root"])
        if "online" in library:
            self._set_library_online(bool(library["online"]))
        hub = status.get("hub") or {}
        if "state" in hub:
            self._set_hub(hub.get("state"), hub.get("next_try"), now)
        if status.get("quarantine_dir"):
            self.quarantine_dir = str(status["quarantine_dir"])
        if status.get("drop_folders") is not None:
            self.drop_folders = tuple(str(p) for p in status["drop_folders"])
        if status.get("recent") is not None:
            self.recent = list(status["recent"])[:RECENT_LIMIT]

    def apply_event(self, event: Mapping[str, Any], now: float) -> bool:
        """One event from the subscription; True when a status refresh would update the counts."""
        kind = event.get("event")
        when = float(event.get("time") or now)
        if kind != "progress":
            self.generation += 1
        if "queued" in event:  # the daemon may tell the queue length with each event
            self.queued = as_int(event["queued"])
        if kind == "state":
            self.paused = event.get("state") == "paused"
        elif kind == "import_started":
            path = str(event.get("path", ""))
            self.active[path] = ActiveImport(path, 0, as_int(event.get("total")), when)
        elif kind == "progress":
            self._progress(
                str(event.get("path", "")),
                as_int(event.get("done")),
                as_int(event.get("total")),
                when,
            )
        elif kind == "imported":
            model = event.get("model") or {}
            self._finished(event.get("path"))
            self.imported_today += 1
            self.recent = [model] + [m for m in self.recent if m.get("id") != model.get("id")]
            del self.recent[RECENT_LIMIT:]
            self._batch_for(now).imported.append(model)
        elif kind == "duplicate":
            self._finished(event.get("path"))
            self._batch_for(now).duplicates.append(str(event.get("path", "")))
        elif kind == "failed":
            self._finished(event.get("path"))
            self._batch_for(now).failed.append(
                (str(event.get("path", "")), str(event.get("reason", "unknown error")))
            )
        elif kind == "quarantined":
            self._finished(event.get("path"))
            self.quarantined += 1
            self._batch_for(now).quarantined.append(
                (str(event.get("path", "")), str(event.get("reason", "no reason given")))
            )
        elif kind == "links_repaired":
            fixed, unfixed = as_int(event.get("fixed")), as_int(event.get("unfixed"))
            self.links_unfixed = unfixed
            if fixed or unfixed:
                self._pending.append(links_repaired_notification(fixed, unfixed))
        elif kind == "library":
            self._set_library_online(event.get("state") == "online")
        elif kind == "hub":
            self._set_hub(event.get("state"), event.get("next_try"), now)
        return kind in _REFRESH_AFTER

    def disconnected(self, now: float, retry_at: float) -> None:
        """The daemon is gone (or never answered); the app retries at `retry_at`."""
        self.connected = False
        self.retry_at = retry_at
        self.active.clear()
        self.queued = 0
        if self._batch is not None:  # report what happened before the daemon went away
            self._pending.extend(batch_notifications(self._batch))
            self._batch = None

    def acknowledge_quarantine(self) -> None:
        """The user opened the quarantine folder: what is there now no longer asks for attention."""
        self.quarantine_seen = self.quarantined

    def acknowledge_errors(self) -> None:
        """The user dismissed the errors listed in the menu."""
        self.errors_seen = set(self.errors)

    def take_notifications(self, now: float) -> list[Notification]:
        """Notifications that are due now (each is returned once)."""
        batch = self._batch
        if batch is not None:
            quiet = now - batch.last >= self.batch_quiet and not self.busy
            if quiet or now - batch.first >= self.batch_max_hold:
                self._pending.extend(batch_notifications(batch))
                self._batch = None
        due, self._pending = self._pending, []
        return due

    # ---- views -------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self.active) or self.queued > 0

    def attention_reasons(self) -> list[str]:
        reasons = []
        unseen = self.quarantined - (self.quarantine_seen or 0)
        if unseen > 0:
            reasons.append(f"{count(unseen, 'file')} quarantined")
        bad_links = max(self.links_bad, self.links_unfixed)
        if bad_links:
            reasons.append(f"{count(bad_links, 'broken link')}")
        new_errors = sum(1 for e in self.errors if e not in self.errors_seen)
        if new_errors:
            reasons.append(count(new_errors, "error"))
        if self.library_online is False:
            reasons.append("library drive offline")
        return reasons

    def icon_state(self) -> IconState:
        # Paused beats attention: it is the user's own choice and must show at once;
        # the reasons for attention stay in the tooltip and the menu.
        if not self.connected:
            return IconState.DISCONNECTED
        if self.paused:
            return IconState.PAUSED
        if self.attention_reasons():
            return IconState.ATTENTION
        if self.active:
            return IconState.IMPORTING
        return IconState.IDLE

    def status_line(self, now: float) -> str:
        if not self.connected:
            if self.retry_at is None or self.retry_at <= now:
                return "Daemon not running, reconnecting…"
            return f"Daemon not running, retrying in {duration(self.retry_at - now)}"
        if self.paused:
            waiting = len(self.active) + self.queued
            return f"Paused, {count(waiting, 'file')} waiting" if waiting else "Paused"
        reasons = self.attention_reasons()
        if reasons:
            return "Needs attention: " + ", ".join(reasons)
        if self.active:
            return f"Importing {count(len(self.active), 'file')}"
        return "Idle"

    def tooltip(self, now: float) -> str:
        lines = [f"modeld: {self.status_line(now)}"]
        if self.connected and (self.waiting or self.errors):
            lines.append(f"Waiting: {len(self.waiting)}, errors: {len(self.errors)}")
        if self.connected and self.active:
            lines.extend(progress_lines(self.active, self.queued))
        elif self.connected and not self.paused:
            lines.append(f"Imported today: {self.imported_today}")
        return clip("\n".join(lines), TOOLTIP_MAX)

    def menu(self, now: float) -> tuple[MenuEntry, ...]:
        online = self.connected
        entries = [
            MenuEntry(self.status_line(now), enabled=False),
            MenuEntry(f"Imported today: {self.imported_today}", enabled=False),
            MenuEntry(f"Queue: {self.queued + len(self.active)}", enabled=False),
        ]
        if self.connected and self.hub_online is False:
            entries.append(hub_line(self.hub_retry_at, now))
        entries += [
            SEPARATOR,
            MenuEntry("Resume", Action("resume"), enabled=online)
            if self.paused
            else MenuEntry("Pause", Action("pause"), enabled=online),
            MenuEntry("Check links now", Action("links_check"), enabled=online),
            SEPARATOR,
            MenuEntry("Open library folder", Action("open", self.library_root)),
            drop_folder_entry(self.drop_folders),
            recent_entry(self.recent),
            MenuEntry(
                f"Quarantine ({self.quarantined})", Action("open_quarantine", self.quarantine_dir)
            ),
            *waiting_entry(self.waiting),
            *errors_entry(self.errors),
            SEPARATOR,
            MenuEntry("Quit tray", Action("quit")),
        ]
        return tuple(entries)

    # ---- helpers -----------------------------------------------------------

    def _progress(self, path: str, done: int, total: int, when: float) -> None:
        job = self.active.get(path)
        if job is None:
            self.active[path] = ActiveImport(path, done, total, when)
        else:
            job.sample(done, total, when)

    def _finished(self, path: Any) -> None:
        if path is not None and str(path) in self.active:
            del self.active[str(path)]
            return
        # No source path in the event: the job that has read all its bytes is the one.
        for key, job in self.active.items():
            if job.total and job.done >= job.total:
                del self.active[key]
                return
        if self.active:
            del self.active[next(iter(self.active))]

    def _batch_for(self, now: float) -> ImportBatch:
        if self._batch is None:
            self._batch = ImportBatch(first=now, last=now)
        self._batch.last = now
        return self._batch

    def _set_library_online(self, online: bool) -> None:
        if self.library_online is not None and online != self.library_online:
            self._pending.append(library_notification(online, self.library_root))
        self.library_online = online

    def _set_hub(self, state: Any, next_try: Any, now: float) -> None:
        # "disabled" (or anything unknown) is neither: the menu only mentions an unreachable Hub
        self.hub_online = {"online": True, "offline": False}.get(str(state))
        retry = next_try if isinstance(next_try, int | float) else None
        self.hub_retry_at = now + retry if retry is not None else None
