"""The watch façade the daemon uses: observers + scans → settle machine → `on_ready`.

    service = WatchService(config.watches, on_ready, settle_seconds=2.0, ...)
    service.start()              # observers up; the catch-up scan runs in the background
    ...                          # on_ready(path, watch) is called for each settled file
    service.done(path)           # the daemon finished with it (any outcome)
    service.retry_later(path, reason)  # truncated: wait for it to change
    service.rescan()             # the scheduler's periodic full scan (the truth)
    service.stop()

Threads: each observer delivers events on its own thread into the settle
machine (under one lock, O(1) per event); one loop thread stats what the
machine asks for, checks the watches (waiting paths, vanished roots) and
offers ready files to `on_ready` — never under the lock, so `on_ready` may
call `done` at once; one scanner thread runs the scans that modeld starts
itself (start-up, a watch appearing, an inotify overflow, capacity freed).

A file handed to `on_ready` is not offered again until `done` or
`retry_later`. `on_ready` returns False when it cannot take the file now (a
full queue): the file stays ready and is offered again shortly, so a burst
costs bounded memory in the queues and nothing is lost. Files whose content
was handled and are still there (copy mode, refused files) are remembered by
(size, mtime, inode) and not offered again until they change.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent

from modeld.config import WatchConfig
from modeld.watch.events import EventKind, FileStat, Origin
from modeld.watch.exclusions import exclusions_under, under_any
from modeld.watch.held import WaitingFile, on_wall_clock
from modeld.watch.observer import (
    EVENT_KINDS,
    INOTIFY,
    WATCHING,
    ObserverFactory,
    WatchHandle,
    default_observer_factory,
)
from modeld.watch.overflow import OverflowListener
from modeld.watch.scan import ScanStats, probe, scan_tree
from modeld.watch.scans import ScanRequests
from modeld.watch.settle import SettleMachine
from modeld.watch.tracked import Phase, Ready
from modeld.watch.tracker import Tracker

log = logging.getLogger(__name__)

OnReady = Callable[[Path, WatchConfig], "bool | None"]
OnFailed = Callable[[Path, WatchConfig, str], None]

_FEED_BATCH = 256
_OFFER_BATCH = 64


class WatchService:
    def __init__(
        self,
        watches: Sequence[WatchConfig],
        on_ready: OnReady,
        *,
        settle_seconds: float = 2.0,
        truncated_grace: float = 1800.0,
        on_failed: OnFailed | None = None,
        exclude: Sequence[Path] = (),
        signal_grace: float = 0.25,
        open_writer_seconds: float = 300.0,
        capacity: int = 20_000,
        poll_seconds: float = 5.0,
        check_seconds: float = 2.0,
        retry_offer_seconds: float = 0.5,
        observer_factory: ObserverFactory = default_observer_factory,
        mountinfo: Callable[[], str | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ):
        self._watches = list(watches)
        self._on_ready = on_ready
        self._on_failed = on_failed
        self._exclude = [Path(p) for p in exclude]
        self._check_seconds = check_seconds
        self._retry_offer_seconds = retry_offer_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        machine = SettleMachine(
            settle_seconds=settle_seconds,
            signal_grace=signal_grace,
            open_writer_seconds=open_writer_seconds,
            truncated_grace=truncated_grace,
            capacity=capacity,
        )
        origins = [Origin(w.path, closes=False, tag=i) for i, w in enumerate(self._watches)]
        self._tracker = Tracker(machine, origins, clock)
        handle_options: dict[str, Any] = {"factory": observer_factory, "poll_seconds": poll_seconds}
        if mountinfo is not None:
            handle_options["mountinfo"] = mountinfo
        self._handles = [
            WatchHandle(w, functools.partial(self._on_event, i), **handle_options)
            for i, w in enumerate(self._watches)
        ]
        self._wake = threading.Event()
        self._next_wake = 0.0
        self._offer_after = 0.0  # after a refusal, offer again at this time (or on done)
        self._scan_lock = threading.Lock()  # one scan at a time
        self._stopping = threading.Event()
        self._scans = ScanRequests(self._scan, len(self._watches), self._stopping)
        self._heartbeat = clock()
        self._threads: list[threading.Thread] = []
        self._overflow = OverflowListener(self._on_overflow)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start every watch that exists (the others are waited for) and the catch-up scan."""
        self._overflow.attach()
        for index, handle in enumerate(self._handles):
            if handle.check():
                self._started(index)
        for name, target in (("modeld-watch", self._loop), ("modeld-scan", self._scans.run)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        self._scans.wake()
        for handle in self._handles:
            handle.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._overflow.detach()

    # -- the daemon's side -----------------------------------------------------------------

    def done(self, path: Path) -> None:
        """The daemon finished with a handed-out path, whatever the outcome."""
        self._tracker.done(path, probe(path))
        # a finished job made room in the queues, and a changed file settles again
        self._offer_after = 0.0
        self._wake.set()

    def retry_later(self, path: Path, reason: str) -> bool:
        """A handed-out file is incomplete (truncated): offer it again once it changes.

        If it stays unchanged for `truncated_grace`, `on_failed(path, watch, reason)`
        is called instead and the file is not offered again until it changes.
        False when the path was not handed out (nothing was parked).
        """
        parked = self._tracker.retry_later(path, reason)
        if not parked:
            log.debug("retry_later for %s, which was not handed out", path)
        self._wake.set()
        return parked

    def rescan(self) -> None:
        """Scan every watch now, in the calling thread (the scheduler's job)."""
        for index in range(len(self._handles)):
            if self._stopping.is_set():
                return
            self._scan(index)

    def request_scan(self, index: int | None = None) -> None:
        """Ask the scanner thread for a scan of one watch (or all) and return at once."""
        self._scans.request(index)

    def wait_for_scans(self, count: int, timeout: float) -> bool:
        """Wait until `count` scans have completed since start (for tests and start-up)."""
        return self._scans.wait_for(count, timeout)

    # -- status ----------------------------------------------------------------------------

    def health(self) -> bool:
        """The loop and scanner threads are alive and the loop went round recently.

        A dead observer is not unhealthy: the loop restarts it within check_seconds.
        """
        if self._stopping.is_set() or not self._threads:
            return False
        if not all(thread.is_alive() for thread in self._threads):
            return False
        return self._clock() - self._heartbeat < max(30.0, 5 * self._check_seconds)

    def watching(self) -> list[dict[str, Any]]:
        """Status of each watch: how it is observed and how many files it has in flight."""
        counts = self._tracker.counts_by_tag()
        out = []
        for index, handle in enumerate(self._handles):
            phases = counts.get(index, {})
            out.append(
                handle.describe()
                | {
                    "settling": phases.get(Phase.SETTLING.value, 0),
                    "importing": phases.get(Phase.HANDED.value, 0),
                    "retrying": phases.get(Phase.RETRY.value, 0),
                }
            )
        return out

    def waiting(self) -> list[WaitingFile]:
        """Every file the watches hold back now (settling, parked for a retry), oldest first."""
        held, now, wall_now = self._tracker.held(self._wall_clock)
        ordered = sorted(held, key=lambda item: item.since)
        return [on_wall_clock(item, now, wall_now) for item in ordered]

    # -- events ----------------------------------------------------------------------------

    def _on_event(self, index: int, handle: WatchHandle, event: FileSystemEvent) -> None:
        kind = EVENT_KINDS.get(type(event))
        if kind is None:
            return
        src = self._inside(index, handle, event.src_path)
        dest = self._inside(index, handle, event.dest_path) if kind is EventKind.MOVED else None
        if src is None and dest is None:
            return
        when = self._tracker.event(index, kind, src, dest)
        if when is not None and when < self._next_wake:
            self._wake.set()

    def _inside(self, index: int, handle: WatchHandle, raw: str | bytes) -> Path | None:
        """The event path under the watch root, or None (empty, or under an excluded folder)."""
        if not raw:
            return None
        path = handle.to_watch_path(raw)
        return None if under_any(str(path), self._tracker.excluded(index)) else path

    def _on_overflow(self) -> None:
        log.warning("inotify dropped events; rescanning the watches")
        for index, handle in enumerate(self._handles):
            if handle.backend == INOTIFY:
                self.request_scan(index)

    # -- the loop --------------------------------------------------------------------------

    def _loop(self) -> None:
        next_check = self._clock() + self._check_seconds
        while not self._stopping.is_set():
            now = self._clock()
            self._heartbeat = now
            if now >= next_check:
                self._check_watches()
                next_check = now + self._check_seconds
            stats = [(path, probe(path)) for path in self._tracker.due(now)]
            found = self._tracker.settle(stats, self._offer_after, _OFFER_BATCH)
            if found.refill:
                self.request_scan()
            for item in found.expired:
                self._report_failed(item.path, item.tag, item.reason)
            if found.ready and not self._offer(found.ready):
                self._offer_after = self._clock() + self._retry_offer_seconds
            wakeup, has_ready = self._tracker.next_wakeup()
            candidates = [next_check] + ([wakeup] if wakeup is not None else [])
            if has_ready:
                candidates.append(self._offer_after)
            self._next_wake = min(candidates)
            timeout = max(0.0, self._next_wake - self._clock())
            if self._wake.wait(timeout):
                self._wake.clear()

    def _offer(self, ready: list[Ready]) -> bool:
        """Hand ready files to on_ready, oldest first; False when one was refused."""
        for item in ready:
            path, watch = item.path, self._watches[item.tag]
            if not self._tracker.hand_out(item):  # before the call: on_ready may call done()
                continue
            try:
                accepted = self._on_ready(path, watch)
            except Exception:  # a bug in the consumer costs this file until it changes
                log.exception("on_ready failed for %s", path)
                self.done(path)
                continue
            if accepted is False:
                self._tracker.give_back(path)
                return False
        return True

    def _report_failed(self, path: Path, tag: int, reason: str) -> None:
        log.warning("%s stayed incomplete for the whole grace period: %s", path, reason)
        if self._on_failed is None:
            return
        try:
            self._on_failed(path, self._watches[tag], reason)
        except Exception:
            log.exception("on_failed failed for %s", path)

    def _check_watches(self) -> None:
        for index, handle in enumerate(self._handles):
            if handle.check():
                self._started(index)

    def _started(self, index: int) -> None:
        """A watch (re)started: new origin and exclusions, then a catch-up scan."""
        handle = self._handles[index]
        origin = Origin(handle.root, closes=handle.closes, tag=index)
        excluded = exclusions_under(handle.root, self._exclude)
        self._tracker.restart(index, origin, excluded)
        self.request_scan(index)

    # -- scans -----------------------------------------------------------------------------

    def _scan(self, index: int) -> None:
        handle = self._handles[index]
        if handle.state != WATCHING:
            self._scans.finished()
            return
        with self._scan_lock:
            try:
                self._scan_locked(index, handle)
            except Exception:  # a scan that breaks is retried by the next one
                log.exception("scan of %s failed", handle.root)
        self._scans.finished()

    def _scan_locked(self, index: int, handle: WatchHandle) -> None:
        root = handle.root
        excluded, origin = self._tracker.scan_setup(index)
        stats = ScanStats(folders=[])
        present: set[str] = set()
        batch: list[tuple[Path, FileStat]] = []
        started = time.monotonic()
        for path, stat in scan_tree(
            root,
            recursive=handle.config.recursive,
            skip=lambda folder: under_any(str(folder), excluded),
            stats=stats,
        ):
            if self._stopping.is_set():
                return
            present.add(str(path))
            batch.append((path, stat))
            if len(batch) >= _FEED_BATCH:
                self._feed(batch, origin)
                batch = []
        self._feed(batch, origin)
        self._tracker.forget_missing(root, present)
        log.info(
            "scanned %s: %d file(s) in %d folder(s) in %.2fs",
            root,
            stats.files,
            stats.directories,
            time.monotonic() - started,
        )
        self._check_coverage(index, handle, stats)

    def _feed(self, batch: list[tuple[Path, FileStat]], origin: Origin) -> None:
        if not batch:
            return
        wakeup = self._tracker.feed(batch, origin)
        if wakeup is not None and wakeup < self._next_wake:
            self._wake.set()

    def _check_coverage(self, index: int, handle: WatchHandle, stats: ScanStats) -> None:
        """inotify skips subfolders it cannot watch without a word: compare, and poll if short."""
        if handle.backend != INOTIFY or stats.folders is None:
            return
        unwatched = handle.unwatched(stats.folders)
        if unwatched:
            handle.fall_back_to_polling(
                f"inotify could not watch {len(unwatched)} folder(s) (e.g. {unwatched[0]}): "
                "the watch limit is probably reached; polling instead. Raise it with: "
                "sudo sysctl fs.inotify.max_user_watches=<higher> (persist it in /etc/sysctl.d/)"
            )
            self._started(index)
