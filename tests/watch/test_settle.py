"""The settle state machine, driven by a fake clock, fake events and a fake file table.

Nothing here touches the disk: `Disk` is the machine's view of the file system
(what a stat would return), and `Driver.run_until` plays the service's loop:
stat whatever the machine asks for, collect what becomes ready.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modeld.watch.events import EventKind, FileStat, Origin
from modeld.watch.settle import SettleMachine
from modeld.watch.tracked import Phase

ROOT = Path("/drop")
INOTIFY = Origin(ROOT, closes=True, tag="inbox")
POLLING = Origin(ROOT, closes=False, tag="share")


class Driver:
    def __init__(self, machine: SettleMachine, origin: Origin = INOTIFY):
        self.machine = machine
        self.origin = origin
        self.now = 0.0
        self.files: dict[Path, FileStat] = {}
        self.stats_taken: list[tuple[float, Path]] = []
        self.ready_at: dict[Path, float] = {}

    # the world
    def write(self, name: str, size: int, *, event: EventKind | None = EventKind.MODIFIED) -> Path:
        path = ROOT / name
        old = self.files.get(path)
        ino = old.ino if old else len(self.files) + 100
        sidecar = (ROOT / f"{name}.aria2") in self.files
        self.files[path] = FileStat(size, int(self.now * 1e9) + 1, ino, sidecar)
        if event is not None:
            self.event(event, path)
        return path

    def event(self, kind: EventKind, path: Path, dest: Path | None = None) -> None:
        self.machine.event(kind, path, self.now, origin=self.origin, dest=dest)

    def rename(self, src: str, dst: str) -> Path:
        stat = self.files.pop(ROOT / src)
        self.files[ROOT / dst] = stat
        self.event(EventKind.MOVED, ROOT / src, ROOT / dst)
        return ROOT / dst

    def set_sidecar(self, name: str, present: bool) -> None:
        side = ROOT / f"{name}.aria2"
        if present:
            self.files[side] = FileStat(10, 1, 999)
        else:
            self.files.pop(side, None)
        target = ROOT / name
        if target in self.files:
            old = self.files[target]
            self.files[target] = FileStat(old.size, old.mtime_ns, old.ino, present)
        kind = EventKind.CREATED if present else EventKind.DELETED
        self.event(kind, side)

    def handed(self, name: str, size: int) -> Path:
        """A file written and closed, settled, and handed out to the caller."""
        path = self.write(name, size)
        self.event(EventKind.CLOSED, path)
        assert self.run_until(1) == [path]
        self.machine.hand_out(path)
        return path

    # the service's loop
    def run_until(self, until: float, step: float = 0.05) -> list[Path]:
        newly = []
        while self.now < until - 1e-9:
            self.now = round(self.now + step, 6)
            for path in self.machine.due(self.now):
                self.stats_taken.append((self.now, path))
                self.machine.observe(path, self.files.get(path), self.now)
            for ready in self.machine.ready():
                if ready.path not in self.ready_at:
                    self.ready_at[ready.path] = self.now
                    newly.append(ready.path)
        return newly


@pytest.fixture
def machine() -> SettleMachine:
    return SettleMachine(settle_seconds=2.0, signal_grace=0.25, open_writer_seconds=60.0)


def test_part_then_rename_is_ready_within_the_grace_not_a_full_quiet_period(machine):
    d = Driver(machine)
    d.write("model.safetensors.part", 10, event=EventKind.CREATED)
    d.write("model.safetensors.part", 5000)
    d.event(EventKind.CLOSED, ROOT / "model.safetensors.part")
    assert d.run_until(3.0) == []  # the temporary name is never a candidate
    rename_at = d.now
    final = d.rename("model.safetensors.part", "model.safetensors")
    assert d.run_until(rename_at + 1.0) == [final]
    latency = d.ready_at[final] - rename_at
    assert machine.signal_grace <= latency < machine.settle_seconds


def test_close_after_write_is_ready_after_the_grace(machine):
    d = Driver(machine)
    path = d.write("a.gguf", 100, event=EventKind.CREATED)
    d.write("a.gguf", 4096)
    d.run_until(0.5)
    d.event(EventKind.CLOSED, path)
    closed_at = d.now
    assert d.run_until(2.0) == [path]
    assert d.ready_at[path] - closed_at <= machine.signal_grace + 0.1


def test_slow_writer_pausing_mid_file_is_not_ready_while_it_holds_the_file_open(machine):
    d = Driver(machine)
    path = d.write("big.safetensors", 1, event=EventKind.CREATED)
    for i in range(10):
        d.write("big.safetensors", 1000 * (i + 1))
        d.run_until(d.now + 0.1)
    # the writer pauses for far longer than settle_seconds without closing the file
    assert d.run_until(d.now + 10 * machine.settle_seconds) == []
    assert machine.phase_of(path) is Phase.SETTLING
    d.write("big.safetensors", 20_000)
    d.event(EventKind.CLOSED, path)
    assert d.run_until(d.now + 1.0) == [path]


def test_without_close_events_a_pause_longer_than_the_quiet_period_counts_as_done():
    # polling (network shares, macOS) cannot see closes: the quiet period is all there is
    machine = SettleMachine(settle_seconds=2.0)
    d = Driver(machine, POLLING)
    path = d.write("x.bin", 10, event=EventKind.CREATED)
    d.write("x.bin", 500)
    assert d.run_until(d.now + 1.5) == []
    assert d.run_until(d.now + 2.0) == [path]
    assert d.ready_at[path] >= 2.0


def test_a_lost_close_is_covered_by_the_open_writer_limit(machine):
    d = Driver(machine)
    path = d.write("y.bin", 500)
    assert d.run_until(machine.open_writer_seconds - 1) == []
    assert d.run_until(machine.open_writer_seconds + 2) == [path]


def test_writes_keep_postponing_readiness_and_stats_are_not_taken_per_event():
    machine = SettleMachine(settle_seconds=2.0)
    d = Driver(machine, POLLING)
    path = d.write("grow.bin", 1, event=EventKind.CREATED)
    for i in range(200):  # a steady writer: an event every 50 ms for 10 s
        d.write("grow.bin", 100 * (i + 2))
        assert d.run_until(d.now + 0.05) == []
    assert len(d.stats_taken) == 0
    assert d.run_until(d.now + 3.0) == [path]


def test_aria2_control_file_blocks_until_it_is_removed(machine):
    d = Driver(machine)
    d.set_sidecar("m.gguf", True)
    path = d.write("m.gguf", 8000, event=EventKind.CREATED)  # preallocated to full size
    d.event(EventKind.CLOSED, path)
    assert d.run_until(d.now + 30) == []
    assert machine.phase_of(path) is Phase.SETTLING
    removed_at = d.now
    d.set_sidecar("m.gguf", False)
    assert d.run_until(d.now + 1.0) == [path]
    assert d.ready_at[path] - removed_at < machine.settle_seconds


def test_aria2_sidecar_seen_by_scan_blocks_too(machine):
    d = Driver(machine, POLLING)
    path = ROOT / "n.gguf"
    d.files[path] = FileStat(100, 5, 7, sidecar=True)
    machine.seen(path, d.files[path], d.now, origin=POLLING)
    assert d.run_until(20) == []
    d.files[path] = FileStat(100, 5, 7, sidecar=False)  # aria2 finished; the event was lost
    assert d.run_until(25) == [path]


def test_empty_file_is_never_ready_and_stops_being_polled(machine):
    d = Driver(machine)
    path = d.write("placeholder.safetensors", 0, event=EventKind.CREATED)
    d.event(EventKind.CLOSED, path)
    assert d.run_until(10) == []
    assert machine.phase_of(path) is None  # parked: no stat per poll for placeholders
    polls = len(d.stats_taken)
    d.run_until(20)
    assert len(d.stats_taken) == polls
    assert machine.seen(path, d.files[path], d.now, origin=INOTIFY)
    assert machine.phase_of(path) is None  # a scan does not bring back an empty file
    # Firefox finally renames the .part over the placeholder
    d.write("placeholder.safetensors.part", 900, event=None)
    d.rename("placeholder.safetensors.part", "placeholder.safetensors")
    assert d.run_until(21) == [path]


def test_a_writer_that_reopens_after_closing_starts_the_wait_again(machine):
    d = Driver(machine)
    path = d.write("r.bin", 100, event=EventKind.CREATED)
    d.event(EventKind.CLOSED, path)
    d.run_until(d.now + 0.1)  # the first close: within the grace...
    d.write("r.bin", 200)  # ...the writer reopens and appends
    assert d.run_until(d.now + 5) == []  # open again: the short grace no longer applies
    d.event(EventKind.CLOSED, path)
    d.event(EventKind.CLOSED, path)  # several closes in a row are debounced
    assert d.run_until(d.now + 1) == [path]
    assert [r.path for r in machine.ready()] == [path]


def test_a_handed_out_path_is_never_ready_twice_and_settles_again_if_it_changed(machine):
    d = Driver(machine)
    path = d.write("h.bin", 100)
    d.event(EventKind.CLOSED, path)
    assert d.run_until(1) == [path]
    machine.hand_out(path)
    assert machine.ready() == []
    assert machine.seen(path, d.files[path], d.now, origin=INOTIFY)  # a rescan meanwhile
    d.write("h.bin", 300)  # changed while being imported
    d.event(EventKind.CLOSED, path)
    d.run_until(5)
    assert machine.ready() == []
    assert machine.phase_of(path) is Phase.HANDED
    assert machine.done(path, d.files[path], d.now) is None  # changed: not remembered...
    d.ready_at.clear()
    assert d.run_until(d.now + 3) == [path]  # ...but settled again


def test_done_unchanged_returns_the_stat_to_remember_and_forgets_the_path(machine):
    d = Driver(machine)
    path = d.handed("k.bin", 100)
    assert machine.done(path, d.files[path], d.now) == d.files[path]
    assert machine.phase_of(path) is None
    assert len(machine) == 0


def test_moved_away_while_handed_is_forgotten_on_done(machine):
    d = Driver(machine)
    path = d.handed("mv.bin", 100)
    d.files.pop(path)
    d.event(EventKind.MOVED, path, None)  # the import moved it out of the watch
    assert machine.done(path, None, d.now) is None
    assert len(machine) == 0


def test_truncated_file_is_retried_when_it_changes(machine):
    d = Driver(machine)
    path = d.handed("t.safetensors", 100)
    assert machine.retry_later(path, "truncated: header says 4096 bytes", d.now)
    assert d.run_until(d.now + 600) == []
    d.ready_at.clear()
    d.write("t.safetensors", 4096, event=None)  # resumed download; no event seen (polled)
    assert d.run_until(d.now + 10) == [path]
    assert machine.expired() == []


def test_truncated_file_that_never_changes_is_reported_after_the_grace():
    machine = SettleMachine(settle_seconds=2.0, truncated_grace=120.0)
    d = Driver(machine)
    path = d.handed("t.gguf", 100)
    machine.retry_later(path, "truncated", d.now)
    retried_at = d.now
    d.run_until(retried_at + 119)
    assert machine.expired() == []
    d.run_until(retried_at + 126)
    [expired] = machine.expired()
    assert (expired.path, expired.tag, expired.reason) == (path, "inbox", "truncated")
    assert expired.stat.size == 100
    assert len(machine) == 0
    assert machine.expired() == []  # reported once


def test_grace_counts_from_the_last_change():
    machine = SettleMachine(settle_seconds=1.0, truncated_grace=100.0)
    d = Driver(machine)
    path = d.handed("slow.gguf", 100)
    machine.retry_later(path, "truncated", d.now)
    d.run_until(80)
    d.write("slow.gguf", 150)  # still growing, slowly
    d.event(EventKind.CLOSED, path)
    d.run_until(82)
    machine.hand_out(path)
    machine.retry_later(path, "truncated", d.now)
    d.run_until(150)  # past the first deadline
    assert machine.expired() == []
    d.run_until(190)
    assert [e.path for e in machine.expired()] == [path]


@pytest.mark.parametrize(
    "name",
    [
        "a.part",
        "a.safetensors.crdownload",
        "a.gguf.tmp",
        "a.partial",
        "a.incomplete",
        "a.!qB",
        ".a.safetensors.Xy12Ab",  # rsync
        ".~tmp~/a.safetensors",  # rsync --delay-updates
        ".goutputstream-ABC123",
        "a.safetensors.download/a.safetensors",  # Safari bundle
        "sub/.hidden/a.safetensors",
        "$RECYCLE.BIN/a.safetensors",
    ],
)
def test_temporary_and_hidden_names_never_become_ready(machine, name):
    d = Driver(machine)
    path = ROOT / name
    d.files[path] = FileStat(100, 1, 3)
    d.event(EventKind.CREATED, path)
    d.event(EventKind.CLOSED, path)
    machine.seen(path, d.files[path], d.now, origin=INOTIFY)
    assert d.run_until(400) == []
    assert len(machine) == 0


def test_scan_found_file_is_ready_after_the_quiet_period(machine):
    d = Driver(machine, POLLING)
    path = ROOT / "found.safetensors"
    d.files[path] = FileStat(100, 1, 3)
    assert machine.seen(path, d.files[path], d.now, origin=POLLING)
    assert d.run_until(1.9) == []
    assert d.run_until(2.5) == [path]
    assert len(d.stats_taken) == 1  # one stat confirms the scan's own


def test_rename_within_the_watch_moves_the_arrival_to_the_new_name(machine):
    d = Driver(machine)
    old = d.write("old.bin", 100, event=EventKind.CREATED)
    d.write("old.bin", 200)
    new = d.rename("old.bin", "new.bin")
    assert d.run_until(2) == [new]
    assert machine.phase_of(old) is None


def test_capacity_refuses_new_paths_and_says_so():
    machine = SettleMachine(settle_seconds=1.0, capacity=3)
    stat = FileStat(1, 1, 1)
    accepted = [machine.seen(ROOT / f"f{i}", stat, 0.0, origin=POLLING) for i in range(5)]
    assert accepted == [True, True, True, False, False]
    assert machine.overflowed
    assert len(machine) == 3


def test_next_wakeup_tracks_the_earliest_due_stat(machine):
    d = Driver(machine)
    assert machine.next_wakeup() is None
    path = d.write("w.bin", 10)
    assert machine.next_wakeup() == pytest.approx(0.25)
    d.event(EventKind.CLOSED, path)
    assert machine.next_wakeup() == pytest.approx(0.0)


def test_a_file_moved_in_from_outside_arrives_at_once(machine):
    d = Driver(machine)
    path = ROOT / "moved-in.safetensors"
    d.files[path] = FileStat(500, 1, 42)
    d.event(EventKind.MOVED, None, path)  # inotify full events: no source inside the watch
    assert d.run_until(0.5) == [path]


def test_a_hard_link_or_bare_creation_waits_for_the_quiet_period(machine):
    d = Driver(machine)
    path = d.write("linked.gguf", 500, event=EventKind.CREATED)  # no write, no close follows
    assert d.run_until(machine.settle_seconds) == []
    assert d.run_until(machine.settle_seconds + 1) == [path]


def test_given_back_path_is_first_in_line_again(machine):
    d = Driver(machine)
    first = d.write("1.bin", 10)
    d.event(EventKind.CLOSED, first)
    d.run_until(0.2)
    second = d.write("2.bin", 10)
    d.event(EventKind.CLOSED, second)
    d.run_until(1)
    assert [r.path for r in machine.ready()] == [first, second]
    machine.hand_out(first)
    machine.give_back(first, d.now)  # the queue was full
    assert [r.path for r in machine.ready()] == [first, second]
    assert [r.path for r in machine.ready(limit=1)] == [first]
    machine.hand_out(first)
    d.write("1.bin", 20)  # changed while handed out...
    machine.give_back(first, d.now)
    assert [r.path for r in machine.ready()] == [second]  # ...so it settles again first
    assert not machine.is_ready(first)
    d.run_until(d.now + 3)
    assert machine.is_ready(first)


def test_rebind_switches_a_watch_from_close_events_to_the_quiet_period(machine):
    d = Driver(machine)
    path = d.write("w.bin", 10)  # a write seen under inotify: waits for a close
    assert d.run_until(5) == []
    machine.rebind("inbox", Origin(ROOT, closes=False, tag="inbox"), d.now)  # now polled
    assert d.run_until(8) == [path]


def test_a_deleted_sidecar_signals_its_target_even_if_untracked(machine):
    d = Driver(machine)
    path = ROOT / "t.gguf"
    d.files[path] = FileStat(10, 1, 5)
    d.event(EventKind.DELETED, ROOT / "t.gguf.aria2")
    assert d.run_until(0.5) == [path]


def test_events_outside_the_root_are_ignored(machine):
    d = Driver(machine)
    d.event(EventKind.CLOSED, Path("/elsewhere/x.bin"))
    d.event(EventKind.MOVED, Path("/elsewhere/a"), Path("/elsewhere/b"))
    assert len(machine) == 0
