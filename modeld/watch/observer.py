"""One watchdog observer per `[[watch]]` path, with the fallbacks a months-long run needs.

- Linux: `InotifyObserver(generate_full_events=True)`, so a file moved in from
  outside arrives as a move (an arrival) rather than a bare creation, with an
  event filter that also narrows the kernel mask (our own reads would
  otherwise wake us with open/close-nowrite events).
- Network file systems (NFS, SMB/CIFS, sshfs and other fuse.*, 9p...), found
  in /proc/self/mountinfo: writes by other hosts never reach inotify, so they
  are polled.
- inotify limits: `ENOSPC` (watches) or `EMFILE` (instances) falls back to
  polling for that watch, with a warning that names the sysctl to raise.
  watchdog 7 only raises for the root; a subfolder it could not watch is
  skipped silently, so after each scan `coverage_gap` compares the folders
  found with the folders watched.
- A watch path that does not exist yet (an unmounted drive, a folder not yet
  made) is WAITING, checked on every `check()`, and started when it appears.
  A root that disappears or is replaced (a drive mounted over its mount point)
  is noticed the same way and the watch restarts.

The observer class is chosen by an injectable factory, so tests can simulate
the kernel refusing a watch.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

from modeld.config import WatchConfig
from modeld.vocab.mounts import find_mount, is_remote_fstype, parse_mountinfo, read_mountinfo
from modeld.watch.events import EventKind

log = logging.getLogger(__name__)

INOTIFY, NATIVE, POLLING = "inotify", "native", "polling"
WAITING, WATCHING, STOPPED = "waiting", "watching", "stopped"

# the events the settle machine uses; the filter also narrows the inotify mask
EVENT_KINDS: dict[type[FileSystemEvent], EventKind] = {
    FileCreatedEvent: EventKind.CREATED,
    FileModifiedEvent: EventKind.MODIFIED,
    FileClosedEvent: EventKind.CLOSED,
    FileMovedEvent: EventKind.MOVED,
    FileDeletedEvent: EventKind.DELETED,
}
EVENT_FILTER: list[type[FileSystemEvent]] = list(EVENT_KINDS)

SYSCTL_FOR_ERRNO = {
    errno.ENOSPC: ("inotify watch limit reached", "fs.inotify.max_user_watches"),
    errno.EMFILE: ("inotify instance limit reached", "fs.inotify.max_user_instances"),
}

ObserverFactory = Callable[[str, float], BaseObserver]
EventSink = Callable[["WatchHandle", FileSystemEvent], None]


def default_observer_factory(backend: str, poll_seconds: float) -> BaseObserver:
    """The real observers; imported lazily so non-Linux systems never load inotify."""
    if backend == POLLING:
        from watchdog.observers.polling import PollingObserver

        return PollingObserver(timeout=poll_seconds)
    if backend == INOTIFY:
        from watchdog.observers.inotify import InotifyObserver

        return InotifyObserver(generate_full_events=True)
    from watchdog.observers import Observer

    return Observer()


def preferred_backend(path: Path, mountinfo_text: str | None, platform: str) -> tuple[str, str]:
    """(backend, reason) for a watch root: polling on network file systems."""
    if mountinfo_text:
        mount = find_mount(os.path.realpath(path), parse_mountinfo(mountinfo_text))
        if mount is not None and is_remote_fstype(mount.fstype):
            return POLLING, f"network file system ({mount.fstype}): changes by other hosts"
    if platform.startswith("linux"):
        return INOTIFY, ""
    return NATIVE, ""


def sysctl_hint(exc: OSError) -> str | None:
    """The warning for an inotify limit, naming the sysctl; None for other errors."""
    known = SYSCTL_FOR_ERRNO.get(exc.errno or 0)
    if known is None:
        return None
    what, sysctl = known
    return (
        f"{what}; polling instead. Raise it with: sudo sysctl {sysctl}=<higher> "
        f"(and persist it in /etc/sysctl.d/)"
    )


class _Forward(FileSystemEventHandler):
    def __init__(self, handle: WatchHandle, sink: EventSink):
        self._handle = handle
        self._sink = sink

    def dispatch(self, event: FileSystemEvent) -> None:
        self._sink(self._handle, event)


class WatchHandle:
    """The observer of one watch path, and its state: waiting, watching (how), stopped."""

    def __init__(
        self,
        config: WatchConfig,
        sink: EventSink,
        *,
        factory: ObserverFactory = default_observer_factory,
        poll_seconds: float = 5.0,
        mountinfo: Callable[[], str | None] = read_mountinfo,
        platform: str = sys.platform,
    ):
        self.config = config
        self._sink = sink
        self._factory = factory
        self._poll_seconds = poll_seconds
        self._mountinfo = mountinfo
        self._platform = platform
        self._observer: BaseObserver | None = None
        self._root_id: tuple[int, int] | None = None
        self._real_root: str = str(config.path)
        self._forced_polling: str | None = None  # why inotify was given up for this watch
        self.state = WAITING
        self.backend: str | None = None
        self.reason: str | None = None

    @property
    def root(self) -> Path:
        return self.config.path

    @property
    def closes(self) -> bool:
        """Whether this watch reports close-after-write (only inotify does)."""
        return self.state == WATCHING and self.backend == INOTIFY

    def check(self) -> bool:
        """Start, keep or restart the observer as the root comes and goes; True if (re)started."""
        if self.state == STOPPED:
            return False
        root_id = _dir_id(self.root)
        if self._observer is not None:
            if root_id is not None and root_id == self._root_id and self._observer_alive():
                return False
            why = "vanished" if root_id is None else "changed or its observer stopped"
            log.warning("watch %s %s; restarting it", self.root, why)
            self._teardown()
        if root_id is None:
            if self.state != WAITING or self.reason is None:
                log.info("watch %s does not exist (yet); waiting for it to appear", self.root)
            self.state, self.backend = WAITING, None
            self.reason = "path does not exist (yet)"
            return False
        return self._start(root_id)

    def fall_back_to_polling(self, reason: str) -> None:
        """Give up inotify for this watch (a limit was hit below the root) and poll it."""
        if self.backend == POLLING or self.state == STOPPED:
            return
        log.warning("watch %s: %s", self.root, reason)
        self._forced_polling = reason
        self._teardown()
        self.check()

    def stop(self) -> None:
        self._teardown()
        self.state, self.backend = STOPPED, None

    def to_watch_path(self, event_path: str | bytes) -> Path:
        """An event's path under the configured root (the observer sees the resolved root)."""
        path = os.fsdecode(event_path)
        if self._real_root != str(self.root) and (
            path == self._real_root or path.startswith(self._real_root + os.sep)
        ):
            return self.root / os.path.relpath(path, self._real_root)
        return Path(path)

    def unwatched(self, folders: list[str]) -> list[str]:
        """Which of these folders (under the configured root) inotify does not watch.

        Reads watchdog internals (pinned to <8): watchdog 7 skips a subfolder it
        cannot watch without a word, and there is no public way to ask. Folders
        that vanished meanwhile are not counted; unknown internals answer [].
        """
        if self._observer is None or self.backend != INOTIFY:
            return []
        watched: set[str] = set()
        for emitter in list(self._observer.emitters):
            group = getattr(emitter, "_inotify", None)
            paths = getattr(group, "_active_callbacks_by_path", None)
            if not isinstance(paths, dict):
                return []
            watched.update(os.fsdecode(p) for p in paths)
        root = str(self.root)
        missing = []
        for folder in folders:
            rel = os.path.relpath(folder, root)
            real = self._real_root if rel == "." else os.path.join(self._real_root, rel)
            if real not in watched and os.path.isdir(real):
                missing.append(folder)
        return missing

    def describe(self) -> dict[str, object]:
        return {
            "path": str(self.root),
            "mode": self.config.mode,
            "recursive": self.config.recursive,
            "state": self.state,
            "backend": self.backend,
            "reason": self.reason,
        }

    # -- internals -------------------------------------------------------------------------

    def _start(self, root_id: tuple[int, int]) -> bool:
        backend, reason = preferred_backend(self.root, self._mountinfo(), self._platform)
        if self._forced_polling and backend != POLLING:
            backend, reason = POLLING, self._forced_polling
        self._real_root = os.path.realpath(self.root)
        try:
            self._observer = self._launch(backend)
        except OSError as exc:
            hint = sysctl_hint(exc)
            if hint is None or backend == POLLING:
                log.error("cannot watch %s: %s; will retry", self.root, exc)
                self.state, self.backend, self.reason = WAITING, None, f"cannot watch: {exc}"
                return False
            log.warning("watch %s: %s", self.root, hint)
            self._forced_polling = reason = hint
            try:
                self._observer = self._launch(POLLING)
            except OSError as again:
                log.error("cannot poll %s either: %s; will retry", self.root, again)
                self.state, self.backend, self.reason = WAITING, None, f"cannot watch: {again}"
                return False
            backend = POLLING
        self._root_id = root_id
        self.state, self.backend, self.reason = WATCHING, backend, reason or None
        log.info("watching %s (%s%s)", self.root, backend, f": {reason}" if reason else "")
        return True

    def _launch(self, backend: str) -> BaseObserver:
        observer = self._factory(backend, self._poll_seconds)
        try:
            observer.schedule(
                _Forward(self, self._sink),
                self._real_root,
                recursive=self.config.recursive,
                event_filter=EVENT_FILTER,
            )
            observer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                observer.stop()
            raise
        return observer

    def _observer_alive(self) -> bool:
        observer = self._observer
        if observer is None or not observer.is_alive():
            return False
        return all(emitter.is_alive() for emitter in list(observer.emitters))

    def _teardown(self) -> None:
        observer, self._observer = self._observer, None
        self._root_id = None
        if observer is None:
            return
        try:
            observer.stop()
            observer.join(timeout=5.0)
        except Exception:  # a broken observer must not stop the others
            log.exception("error while stopping the observer of %s", self.root)


def _dir_id(path: Path) -> tuple[int, int] | None:
    """(st_dev, st_ino) of a directory, following a symlinked root; None if it is not one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    return (st.st_dev, st.st_ino)
