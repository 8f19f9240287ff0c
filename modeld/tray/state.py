"""What the tray shows, worked out from the daemon's status and events.

Pure: no I/O, no clock, no threads. The app feeds in status snapshots and
events with the current time and reads back the icon state, the tooltip, the
menu model and the notifications that are due. Everything a user sees from the
tray is decided here, so it is all tested without a display.

Status snapshots follow the contract's `status --json` plus the tray fields
("recent", "imported_today", "library", "hub", "quarantine_dir",
"drop_folders"); events follow modeld.control.protocol.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Notifications about one burst of drops are held until the daemon has nothing
# left to do and has been quiet this long...
BATCH_QUIET_SECONDS = 2.0
# ...but never longer than this, so a long session still reports as it goes.
BATCH_MAX_HOLD_SECONDS = 300.0
RECENT_LIMIT = 10
# Windows caps tooltips at 127 characters; staying under it keeps every backend alike.
TOOLTIP_MAX = 127
NAME_MAX = 40
ERROR_MAX = 100
ERRORS_SHOWN = 5
SPEED_SMOOTHING = 0.3  # weight of the newest sample in the moving average


class IconState(StrEnum):
    IDLE = "idle"
    IMPORTING = "importing"
    PAUSED = "paused"
    ATTENTION = "attention"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class Action:
    """What a menu entry does when chosen; the app maps it to a call or a folder."""

    kind: str  # pause | resume | links_check | open | open_quarantine | dismiss_errors | quit
    path: str | None = None


@dataclass(frozen=True)
class MenuEntry:
    text: str
    action: Action | None = None  # None: an information line
    enabled: bool = True
    children: tuple[MenuEntry, ...] = ()

    @property
    def is_separator(self) -> bool:
        return self.text == SEPARATOR.text


SEPARATOR = MenuEntry("-")


@dataclass(frozen=True)
class Notification:
    kind: str  # one of modeld.config.NOTIFY_KINDS: imported | quarantined | links | library
    title: str
    body: str


@dataclass
class _ActiveImport:
    path: str
    done: int
    total: int
    sample_time: float | None = None  # time of the last progress sample
    speed: float | None = None  # bytes per second, smoothed


@dataclass
class _Batch:
    """Outcomes of one burst of imports, reported together."""

    first: float
    last: float
    imported: list[Mapping[str, Any]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)


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
        self.active: dict[str, _ActiveImport] = {}
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
        self._batch: _Batch | None = None
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
        self.queued = sum(_int(q.get("pending")) for q in queues)
        seen: set[str] = set()
        for queue in queues:
            for job in queue.get("active") or []:
                path = str(job.get("path", ""))
                seen.add(path)
                self._progress(path, _int(job.get("done")), _int(job.get("total")), now)
        for path in list(self.active):
            if path not in seen:
                del self.active[path]
        self.imported_today = _int(status.get("imported_today", self.imported_today))
        self.quarantined = _int(status.get("quarantined", self.quarantined))
        if self.quarantine_seen is not None:
            self.quarantine_seen = min(self.quarantine_seen, self.quarantined)
        links = status.get("links") or {}
        self.links_bad = _int(links.get("broken")) + _int(links.get("missing"))
        if self.links_bad == 0:
            self.links_unfixed = 0
        self.errors = [_error_text(e) for e in status.get("errors") or []]
        self.waiting = [_error_text(w) for w in status.get("waiting") or []]
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
            self.queued = _int(event["queued"])
        if kind == "state":
            self.paused = event.get("state") == "paused"
        elif kind == "import_started":
            path = str(event.get("path", ""))
            self.active[path] = _ActiveImport(path, 0, _int(event.get("total")), when)
        elif kind == "progress":
            self._progress(
                str(event.get("path", "")), _int(event.get("done")), _int(event.get("total")), when
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
            fixed, unfixed = _int(event.get("fixed")), _int(event.get("unfixed"))
            self.links_unfixed = unfixed
            if fixed or unfixed:
                self._pending.append(_links_repaired_notification(fixed, unfixed))
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
            self._pending.extend(_batch_notifications(self._batch))
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
                self._pending.extend(_batch_notifications(batch))
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
            reasons.append(f"{_count(unseen, 'file')} quarantined")
        bad_links = max(self.links_bad, self.links_unfixed)
        if bad_links:
            reasons.append(f"{_count(bad_links, 'broken link')}")
        new_errors = sum(1 for e in self.errors if e not in self.errors_seen)
        if new_errors:
            reasons.append(_count(new_errors, "error"))
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
            return f"Daemon not running, retrying in {_duration(self.retry_at - now)}"
        if self.paused:
            waiting = len(self.active) + self.queued
            return f"Paused, {_count(waiting, 'file')} waiting" if waiting else "Paused"
        reasons = self.attention_reasons()
        if reasons:
            return "Needs attention: " + ", ".join(reasons)
        if self.active:
            return f"Importing {_count(len(self.active), 'file')}"
        return "Idle"

    def tooltip(self, now: float) -> str:
        lines = [f"modeld: {self.status_line(now)}"]
        if self.connected and (self.waiting or self.errors):
            lines.append(f"Waiting: {len(self.waiting)}, errors: {len(self.errors)}")
        if self.connected and self.active:
            lines.extend(self._progress_lines())
        elif self.connected and not self.paused:
            lines.append(f"Imported today: {self.imported_today}")
        return _clip("\n".join(lines), TOOLTIP_MAX)

    def menu(self, now: float) -> tuple[MenuEntry, ...]:
        online = self.connected
        entries = [
            MenuEntry(self.status_line(now), enabled=False),
            MenuEntry(f"Imported today: {self.imported_today}", enabled=False),
            MenuEntry(f"Queue: {self.queued + len(self.active)}", enabled=False),
        ]
        if self.connected and self.hub_online is False:
            entries.append(MenuEntry(_hub_line(self.hub_retry_at, now), enabled=False))
        entries += [
            SEPARATOR,
            MenuEntry("Resume", Action("resume"), enabled=online)
            if self.paused
            else MenuEntry("Pause", Action("pause"), enabled=online),
            MenuEntry("Check links now", Action("links_check"), enabled=online),
            SEPARATOR,
            MenuEntry("Open library folder", Action("open", self.library_root)),
            self._drop_folder_entry(),
            self._recent_entry(),
            MenuEntry(
                f"Quarantine ({self.quarantined})", Action("open_quarantine", self.quarantine_dir)
            ),
            *self._waiting_entry(),
            *self._errors_entry(),
            SEPARATOR,
            MenuEntry("Quit tray", Action("quit")),
        ]
        return tuple(entries)

    # ---- helpers -----------------------------------------------------------

    def _progress(self, path: str, done: int, total: int, when: float) -> None:
        job = self.active.get(path)
        if job is None:
            self.active[path] = _ActiveImport(path, done, total, when)
            return
        if job.sample_time is not None and when > job.sample_time and done >= job.done:
            rate = (done - job.done) / (when - job.sample_time)
            job.speed = (
                rate
                if job.speed is None
                else (SPEED_SMOOTHING * rate + (1 - SPEED_SMOOTHING) * job.speed)
            )
        if done < job.done:  # the job restarted (e.g. a re-read): old samples say nothing
            job.speed = None
        job.done, job.total, job.sample_time = done, total or job.total, when

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

    def _batch_for(self, now: float) -> _Batch:
        if self._batch is None:
            self._batch = _Batch(first=now, last=now)
        self._batch.last = now
        return self._batch

    def _set_library_online(self, online: bool) -> None:
        if self.library_online is not None and online != self.library_online:
            self._pending.append(_library_notification(online, self.library_root))
        self.library_online = online

    def _set_hub(self, state: Any, next_try: Any, now: float) -> None:
        # "disabled" (or anything unknown) is neither: the menu only mentions an unreachable Hub
        self.hub_online = {"online": True, "offline": False}.get(str(state))
        retry = next_try if isinstance(next_try, int | float) else None
        self.hub_retry_at = now + retry if retry is not None else None

    def _progress_lines(self) -> list[str]:
        job = next(iter(self.active.values()))
        name = _middle_clip(os.path.basename(job.path) or job.path, NAME_MAX)
        lines = [f"{name} {_percent(job)}".rstrip()]
        if job.speed:
            details = f"{_rate(job.speed)}"
            if job.total > job.done:
                details += f", {_duration((job.total - job.done) / job.speed)} left"
            lines.append(details)
        others = len(self.active) - 1
        tail = []
        if others:
            tail.append(f"{others} more importing")
        if self.queued:
            tail.append(f"{self.queued} queued")
        if tail:
            lines.append(", ".join(tail))
        return lines

    def _waiting_entry(self) -> list[MenuEntry]:
        if not self.waiting:
            return []
        shown = [MenuEntry(_clip(w, ERROR_MAX), enabled=False) for w in self.waiting[:ERRORS_SHOWN]]
        if len(self.waiting) > ERRORS_SHOWN:
            shown.append(MenuEntry(f"… and {len(self.waiting) - ERRORS_SHOWN} more", enabled=False))
        return [MenuEntry(f"Waiting ({len(self.waiting)})", children=tuple(shown))]

    def _errors_entry(self) -> list[MenuEntry]:
        if not self.errors:
            return []
        shown = [MenuEntry(_clip(e, ERROR_MAX), enabled=False) for e in self.errors[-ERRORS_SHOWN:]]
        dismiss = MenuEntry("Dismiss", Action("dismiss_errors"))
        return [MenuEntry(f"Errors ({len(self.errors)})", children=(*shown, SEPARATOR, dismiss))]

    def _drop_folder_entry(self) -> MenuEntry:
        if not self.drop_folders:
            return MenuEntry("Open drop folder", enabled=False)
        if len(self.drop_folders) == 1:
            return MenuEntry("Open drop folder", Action("open", self.drop_folders[0]))
        return MenuEntry(
            "Open drop folder",
            children=tuple(MenuEntry(p, Action("open", p)) for p in self.drop_folders),
        )

    def _recent_entry(self) -> MenuEntry:
        if not self.recent:
            return MenuEntry("Recent imports", enabled=False)
        children = []
        for model in self.recent[:RECENT_LIMIT]:
            label = _model_label(model)
            path = model.get("path")
            children.append(
                MenuEntry(label, Action("open", str(path)) if path else None, enabled=bool(path))
            )
        return MenuEntry("Recent imports", children=tuple(children))


# ---- notification texts ------------------------------------------------------


def _batch_notifications(batch: _Batch) -> list[Notification]:
    out = []
    if batch.imported or batch.duplicates or batch.failed:
        out.append(_import_notification(batch))
    if batch.quarantined:
        out.append(_quarantine_notification(batch.quarantined))
    return out


def _import_notification(batch: _Batch) -> Notification:
    parts = []
    if batch.imported:
        if len(batch.imported) == 1:
            model = batch.imported[0]
            title = f"Imported {model.get('name') or 'a model'}"
            parts.append(_model_summary(model))
        else:
            title = f"Imported {len(batch.imported)} models"
            names = [str(m.get("name") or "?") for m in batch.imported]
            parts.append(_list_some(names, 3))
    elif batch.duplicates:
        title = f"{_count(len(batch.duplicates), 'duplicate')} skipped"
    else:
        title = f"{_count(len(batch.failed), 'file')} could not be imported"
    if batch.duplicates and batch.imported:
        parts.append(
            f"{_count(len(batch.duplicates), 'duplicate')} skipped (already in the library)"
        )
    elif batch.duplicates:
        parts.append("Already in the library: " + _list_some(_names(batch.duplicates), 3))
    if batch.failed:
        path, reason = batch.failed[0]
        more = f" (and {len(batch.failed) - 1} more)" if len(batch.failed) > 1 else ""
        failed = f"{_count(len(batch.failed), 'file')} failed"
        if batch.imported or batch.duplicates:
            parts.append(f"{failed}: {os.path.basename(path)}: {reason}{more}")
        else:
            parts.append(f"{os.path.basename(path)}: {reason}{more}")
    return Notification("imported", title, "\n".join(p for p in parts if p))


def _quarantine_notification(items: list[tuple[str, str]]) -> Notification:
    if len(items) == 1:
        path, reason = items[0]
        return Notification("quarantined", f"Quarantined {os.path.basename(path)}", reason)
    lines = [f"{os.path.basename(p)}: {r}" for p, r in items[:3]]
    if len(items) > 3:
        lines.append(f"and {len(items) - 3} more")
    return Notification("quarantined", f"{len(items)} files quarantined", "\n".join(lines))


def _links_repaired_notification(fixed: int, unfixed: int) -> Notification:
    if unfixed:
        title = "Some links could not be repaired"
        body = f"{_count(unfixed, 'link')} still broken"
        if fixed:
            body = f"Repaired {_count(fixed, 'link')}; {body}"
        return Notification("links", title, body)
    return Notification("links", "Links repaired", f"Repaired {_count(fixed, 'link')}")


def links_check_notification(result: Mapping[str, Any]) -> Notification:
    """The answer to "Check links now" (a `links check --json` document)."""

    def n(key: str) -> int:
        value = result.get(key, 0)
        return len(value) if isinstance(value, list) else _int(value)

    bad = n("broken") + n("missing")
    title = "Links are fine" if bad == 0 else f"{_count(bad, 'link')} need repair"
    body = (
        f"{n('checked')} checked: {n('ok')} ok, {n('broken')} broken, "
        f"{n('missing')} missing, {n('orphaned')} orphaned"
    )
    return Notification("links", title, body)


def _library_notification(online: bool, root: str) -> Notification:
    if online:
        return Notification("library", "Library drive is back", f"{root} is reachable again")
    return Notification(
        "library",
        "Library drive offline",
        f"{root} is not reachable; imports wait until it is back",
    )


# ---- formatting --------------------------------------------------------------


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _error_text(error: Any) -> str:
    """`name: reason` for a status `errors` or `waiting` entry (older daemons sent strings)."""
    if isinstance(error, Mapping):
        reason = str(error.get("reason") or error)
        path = error.get("path")
        return f"{os.path.basename(str(path)) or path}: {reason}" if path else reason
    return str(error)


def _names(paths: Iterable[str]) -> list[str]:
    return [os.path.basename(p) or p for p in paths]


def _list_some(items: list[str], shown: int) -> str:
    text = ", ".join(items[:shown])
    if len(items) > shown:
        text += f" and {len(items) - shown} more"
    return text


def _model_label(model: Mapping[str, Any]) -> str:
    name = _middle_clip(str(model.get("name") or model.get("id") or "?"), NAME_MAX)
    kind = model.get("model_type")
    return f"{name} ({kind})" if kind and kind != "unknown" else name


def _model_summary(model: Mapping[str, Any]) -> str:
    bits = [
        str(model[k]) for k in ("model_type", "family") if model.get(k) not in (None, "unknown")
    ]
    if model.get("size"):
        bits.append(human_size(_int(model["size"])))
    return ", ".join(bits)


def _hub_line(retry_at: float | None, now: float) -> str:
    if retry_at is not None and retry_at > now:
        return f"Hugging Face unreachable, retrying in {_duration(retry_at - now)}"
    return "Hugging Face unreachable"


def _percent(job: _ActiveImport) -> str:
    if job.total <= 0:
        return ""
    return f"{min(100, job.done * 100 // job.total)}%"


def human_size(n: float) -> str:
    """Decimal units, as file managers show them: 950 B, 8.5 MB, 180 MB, 6.9 GB."""
    units = ("B", "KB", "MB", "GB", "TB")
    value, unit = float(n), 0
    while value >= 1000 and unit < len(units) - 1:
        value /= 1000
        unit += 1
    if unit == 0:
        return f"{int(value)} B"
    return f"{value:.1f} {units[unit]}" if value < 10 else f"{value:.0f} {units[unit]}"


def _rate(bytes_per_second: float) -> str:
    return f"{human_size(bytes_per_second)}/s"


def _duration(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _middle_clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    # the end of a model file name (quantisation, version, extension) tells files apart
    keep = limit - 1
    tail = keep * 3 // 5
    return text[: keep - tail] + "…" + text[-tail:]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
