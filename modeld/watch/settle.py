"""When is a dropped file complete? A pure state machine: events and stats in, ready paths out.

No I/O and no clock of its own: the caller feeds file-system events, stat
snapshots and the current (monotonic) time, asks which paths it should stat
next, and takes the paths that became ready. Tests drive it with a fake clock.

The rules, in order (each has a reason; see ecosystem.md §1):

1. Only CANDIDATE names are tracked (tempnames.py). A temporary name is a
   download in progress; its rename to a final name is the arrival.
2. A file is never ready while it is empty (Firefox leaves a 0-byte
   placeholder under the final name until the `.part` is renamed over it) or
   while its aria2 control file exists (aria2 preallocates the full size).
3. Readiness is measured by a *run*: consecutive stats with identical
   (size, mtime_ns, ino, sidecar) and no event in between. Any event for the
   path ends the run. A file is ready when its current run has lasted the
   required quiet time, confirmed by a stat at the end of it:
   - after a completion signal — a close-after-write, a rename to this name,
     or the removal of its aria2 control file — with no write since:
     `signal_grace` (a fraction of a second), not the full quiet period;
   - while a writer is known to hold the file open — the source delivers
     close events (Linux inotify), a write was seen, and no close after it —
     `open_writer_seconds` (minutes). A download that stalls mid-file is not
     declared complete just because it is quiet; the long limit only covers
     a close event lost to an inotify queue overflow;
   - otherwise (polling, macOS, files found by a scan): `settle_seconds`.
   A write after a close (a writer that reopens) starts the wait again.
4. A stable empty file is dropped from tracking (it comes back on its next
   event or scan) so a folder of placeholders costs nothing.
5. A path handed out is HANDED until the caller says `done` or `retry_later`;
   it is never handed out twice at once. Events meanwhile only mark it
   changed, and a changed file settles again after `done`.
6. `retry_later` (a format check found the file truncated) parks the file
   until it changes; a file that has not changed for `truncated_grace`
   seconds is reported as failed instead of retried forever. The grace counts
   from the last change, so a download that is still (slowly) growing is not
   given up on. Nor is giving up final: a file that changes later is tracked
   afresh. Meanwhile `held` lists it with its reason and deadline (as it
   lists every file not handed out), so the wait is never silent.

The inputs are in events.py, a tracked file's record and the reports about
it in tracked.py, the timetable of stats in due.py.

Limitation, stated plainly: a file found by the start-up scan while a writer
that started before modeld still has it open is judged by the quiet period
alone until its next write event arrives.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeld.watch.due import DueTimes
from modeld.watch.events import EventKind, FileStat, Origin
from modeld.watch.held import Held
from modeld.watch.tempnames import NameKind, classify, sidecar_target
from modeld.watch.tracked import Expired, Phase, Ready, TrackedFile


@dataclass
class SettleMachine:
    settle_seconds: float = 2.0
    signal_grace: float = 0.25
    open_writer_seconds: float = 300.0
    truncated_grace: float = 1800.0
    capacity: int = 20_000  # tracked paths at most; the rest wait for a later scan
    _entries: dict[str, TrackedFile] = field(default_factory=dict, init=False)
    _due: DueTimes = field(default_factory=DueTimes, init=False)
    _ready: OrderedDict[str, float] = field(default_factory=OrderedDict, init=False)
    _expired: list[Expired] = field(default_factory=list, init=False)
    overflowed: bool = field(default=False, init=False)  # a path was refused for capacity

    @property
    def retry_poll(self) -> float:
        return max(self.settle_seconds, 5.0)

    # -- inputs --------------------------------------------------------------------------

    def event(
        self,
        kind: EventKind,
        path: Path | None,
        now: float,
        *,
        origin: Origin,
        dest: Path | None = None,
    ) -> float | None:
        """Feed one event; returns when the path it touched is next due (None: nothing new).

        For MOVED, `path` is the source and `dest` the destination; either is
        None when that side lies outside the watch (moved in, moved out).
        """
        if kind is EventKind.MOVED:
            times = []
            if path is not None:
                times.append(self._vanished(path, origin, now))
            if dest is not None:
                times.append(self._arrived(dest, now, origin))
            return min((t for t in times if t is not None), default=None)
        if path is None:
            return None
        if kind is EventKind.DELETED:
            return self._vanished(path, origin, now)

        name_kind = classify(path, origin.root)
        if name_kind is NameKind.SIDECAR:
            # the control file changed: its target must be stat-ed again
            return self._touch_path(sidecar_target(path), now, origin, signal=False)
        if name_kind is not NameKind.CANDIDATE:
            return None
        entry = self._live_entry(path, origin, now)
        if entry is None:
            return None
        if kind is EventKind.MODIFIED:
            entry.writing, entry.signalled = True, False
        elif kind is EventKind.CLOSED:
            entry.writing, entry.signalled = False, True
        return self._touch(str(path), entry, now, signal=kind is EventKind.CLOSED)

    def seen(self, path: Path, stat: FileStat, now: float, *, origin: Origin) -> bool:
        """A file found by a scan; False when it was refused for capacity."""
        key = str(path)
        if key in self._entries or stat.size == 0:
            return True
        if classify(path, origin.root) is not NameKind.CANDIDATE:
            return True
        entry = self._track(path, origin, now)
        if entry is None:
            return False
        entry.run_stat, entry.run_since = stat, now
        self._due.schedule(key, now + self._quiet(entry))
        return True

    def observe(self, path: Path, stat: FileStat | None, now: float) -> None:
        """The result of a stat the machine asked for (None: gone or not a regular file)."""
        key = str(path)
        entry = self._entries.get(key)
        if entry is None or entry.phase is Phase.HANDED:
            return
        if stat is None:
            self._drop(key)
            return
        if entry.phase is Phase.RETRY:
            assert entry.handed_stat is not None
            if stat.fingerprint == entry.handed_stat.fingerprint:
                if now >= entry.retry_deadline:
                    tag, reason = entry.origin.tag, entry.retry_reason
                    self._expired.append(Expired(path, tag, reason, stat))
                    self._drop(key)
                else:
                    self._due.schedule(key, min(now + self.retry_poll, entry.retry_deadline))
                return
            entry.phase = Phase.SETTLING  # it changed: a resumed download, settle it again
            entry.run_stat = None
        if entry.run_stat != stat:
            entry.run_stat, entry.run_since = stat, now
            self._ready.pop(key, None)
            self._due.schedule(key, now + self._quiet(entry))
            return
        quiet_until = entry.run_since + self._quiet(entry)
        if now < quiet_until:
            self._due.schedule(key, quiet_until)
        elif stat.size == 0:
            self._drop(key)  # a placeholder: its next event or scan brings it back
        elif stat.sidecar:
            self._due.schedule(key, now + self.settle_seconds)
        elif key not in self._ready:
            self._ready[key] = now

    # -- the caller's side of a hand-out ---------------------------------------------------

    def hand_out(self, path: Path) -> None:
        """The caller accepted a ready path: it is HANDED until `done` or `retry_later`."""
        key = str(path)
        entry = self._entries[key]
        self._ready.pop(key, None)
        entry.phase = Phase.HANDED
        entry.handed_stat = entry.run_stat
        entry.changed = False

    def give_back(self, path: Path, now: float) -> None:
        """The caller could not take a path just handed out (its queue is full).

        It becomes ready again, first in line, unless it changed meanwhile.
        """
        key = str(path)
        entry = self._entries.get(key)
        if entry is None or entry.phase is not Phase.HANDED:
            return
        if entry.changed:
            self._restart(key, entry, now)
            return
        entry.phase = Phase.SETTLING
        self._ready[key] = now
        self._ready.move_to_end(key, last=False)

    def discard(self, path: Path) -> None:
        """Stop tracking a path (its content is known to be handled already)."""
        self._drop(str(path))

    def rebind(self, tag: Any, origin: Origin, now: float) -> None:
        """A watch changed how it observes (inotify gave way to polling): update its entries.

        Their waits may have shortened, so each is stat-ed again at once.
        """
        for key, entry in self._entries.items():
            if entry.origin.tag == tag:
                entry.origin = origin
                if entry.phase is Phase.SETTLING:
                    self._due.schedule(key, now)

    def done(self, path: Path, stat: FileStat | None, now: float) -> FileStat | None:
        """The caller finished with a HANDED path; `stat` is the file as it is now.

        Returns the stat to remember as handled (unchanged since hand-out), or
        None when the file is gone or changed (a changed file settles again).
        """
        key = str(path)
        entry = self._entries.get(key)
        if entry is None or entry.phase is not Phase.HANDED:
            return None
        if stat is None:
            self._drop(key)
            return None
        assert entry.handed_stat is not None
        if entry.changed or stat.fingerprint != entry.handed_stat.fingerprint:
            self._restart(key, entry, now)
            return None
        self._drop(key)
        return stat

    def retry_later(self, path: Path, reason: str, now: float) -> bool:
        """Park a HANDED path until it changes, for at most `truncated_grace` unchanged."""
        key = str(path)
        entry = self._entries.get(key)
        if entry is None or entry.phase is not Phase.HANDED:
            return False
        if entry.changed:
            self._restart(key, entry, now)
            return True
        entry.phase = Phase.RETRY
        entry.retry_reason = reason
        entry.retry_deadline = now + self.truncated_grace
        self._due.schedule(key, min(now + self.retry_poll, entry.retry_deadline))
        return True

    # -- outputs ---------------------------------------------------------------------------

    def due(self, now: float) -> list[Path]:
        """Paths to stat now (then feed each result to `observe`)."""
        paths = []
        for key in self._due.pop_due(now):
            entry = self._entries.get(key)
            if entry is not None and entry.phase is not Phase.HANDED:
                paths.append(Path(key))
        return paths

    def expired(self) -> list[Expired]:
        """RETRY paths whose grace ran out unchanged (found by `observe`); they have left."""
        out, self._expired = self._expired, []
        return out

    def ready(self, limit: int | None = None) -> list[Ready]:
        """Ready paths, oldest first (at most `limit`); they stay ready until `hand_out`."""
        out = []
        for key in itertools.islice(self._ready, limit):
            entry = self._entries[key]
            assert entry.run_stat is not None
            out.append(Ready(Path(key), entry.origin.tag, entry.run_stat))
        return out

    def next_wakeup(self) -> float | None:
        """The earliest time `due` or `expired` will have something (None: nothing scheduled)."""
        return self._due.next_wakeup()

    def counts_by_tag(self) -> dict[Any, dict[str, int]]:
        out: dict[Any, dict[str, int]] = {}
        for entry in self._entries.values():
            bucket = out.setdefault(entry.origin.tag, {p.value: 0 for p in Phase})
            bucket[entry.phase.value] += 1
        return out

    def held(self) -> list[Held]:
        """Every tracked path not handed out, with why it waits: what the watch holds back."""
        return [
            entry.held(Path(key), ready=key in self._ready)
            for key, entry in self._entries.items()
            if entry.phase is not Phase.HANDED  # the caller has it: queued or being imported
        ]

    def is_ready(self, path: Path) -> bool:
        return str(path) in self._ready

    def has_ready(self) -> bool:
        return bool(self._ready)

    def phase_of(self, path: Path) -> Phase | None:
        entry = self._entries.get(str(path))
        return entry.phase if entry else None

    def __len__(self) -> int:
        return len(self._entries)

    # -- internals -------------------------------------------------------------------------

    def _quiet(self, entry: TrackedFile) -> float:
        if entry.signalled:
            return self.signal_grace
        if entry.writing and entry.origin.closes:
            return self.open_writer_seconds
        return self.settle_seconds

    def _track(self, path: Path, origin: Origin, now: float) -> TrackedFile | None:
        if len(self._entries) >= self.capacity:
            self.overflowed = True
            return None
        entry = TrackedFile(origin=origin, since=now, run_since=now)
        self._entries[str(path)] = entry
        return entry

    def _arrived(self, path: Path, now: float, origin: Origin) -> float | None:
        """A rename landed on `path`: the arrival of a finished download."""
        kind = classify(path, origin.root)
        if kind is NameKind.SIDECAR:
            return self._touch_path(sidecar_target(path), now, origin, signal=False)
        if kind is not NameKind.CANDIDATE:
            return None
        return self._touch_path(path, now, origin, signal=True)

    def _vanished(self, path: Path, origin: Origin, now: float) -> float | None:
        """`path` was deleted or renamed away."""
        key = str(path)
        entry = self._entries.get(key)
        if entry is not None:
            if entry.phase is Phase.HANDED:
                entry.changed = True  # `done` will find it gone and forget it
            else:
                self._drop(key)
            return None
        if classify(path, origin.root) is NameKind.SIDECAR:
            # aria2 removes its control file when the download is complete
            return self._touch_path(sidecar_target(path), now, origin, signal=True)
        return None

    def _touch_path(self, path: Path, now: float, origin: Origin, *, signal: bool) -> float | None:
        if classify(path, origin.root) is not NameKind.CANDIDATE:
            return None
        entry = self._live_entry(path, origin, now)
        if entry is None:
            return None
        if signal:
            entry.writing, entry.signalled = False, True
        return self._touch(str(path), entry, now, signal=signal)

    def _live_entry(self, path: Path, origin: Origin, now: float) -> TrackedFile | None:
        """The entry an event for `path` moves on, tracked if new.

        None when refused for capacity, or when the path is HANDED: then it is
        only marked changed, and settles again after `done`.
        """
        entry = self._entries.get(str(path)) or self._track(path, origin, now)
        if entry is not None and entry.phase is Phase.HANDED:
            entry.changed = True
            return None
        return entry

    def _touch(self, key: str, entry: TrackedFile, now: float, *, signal: bool) -> float:
        """An event for this path: the run ends; stat at once after a signal, else later."""
        if entry.phase is Phase.RETRY:
            entry.phase = Phase.SETTLING
        entry.run_stat = None
        self._ready.pop(key, None)
        # while a writer streams events, the stat keeps moving back: no run can
        # complete before the writes stop, so there is nothing to learn earlier
        self._due.schedule(key, now if signal else now + min(self.settle_seconds, 0.25))
        return self._due.when(key)

    def _restart(self, key: str, entry: TrackedFile, now: float) -> None:
        entry.phase = Phase.SETTLING
        entry.writing = entry.signalled = False
        entry.run_stat = None
        entry.handed_stat = None
        entry.changed = False
        self._due.schedule(key, now)

    def _drop(self, key: str) -> None:
        self._entries.pop(key, None)
        self._ready.pop(key, None)
        self._due.forget(key)
