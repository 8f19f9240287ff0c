"""The shared tracker: handled files are not offered again until they change or vanish."""

from __future__ import annotations

from pathlib import Path

from modeld.watch.events import FileStat, Origin
from modeld.watch.settle import SettleMachine
from modeld.watch.tracker import Tracker

ROOT = Path("/drop")
ORIGIN = Origin(ROOT, closes=False, tag=0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def settled(tracker: Tracker, clock: Clock, stat: FileStat) -> list:
    """Run the loop's rounds (stat = `stat` for every path) until something is ready."""
    for _ in range(100):
        clock.now += 0.5
        found = tracker.settle([(p, stat) for p in tracker.due(clock.now)], 0.0, 10)
        if found.ready:
            return found.ready
    return []


def test_a_handled_file_is_skipped_by_scans_until_it_changes_or_a_scan_misses_it():
    clock = Clock()
    tracker = Tracker(SettleMachine(settle_seconds=1.0), [ORIGIN], clock)
    path, stat = ROOT / "a.gguf", FileStat(100, 1, 7)
    tracker.feed([(path, stat)], ORIGIN)
    [item] = settled(tracker, clock, stat)
    assert tracker.hand_out(item)
    assert not tracker.hand_out(item)  # handed out once only
    tracker.done(path, stat)  # unchanged: remembered as handled
    assert tracker.feed([(path, stat)], ORIGIN) is None  # skipped: nothing scheduled
    changed = FileStat(200, 2, 7)
    assert tracker.feed([(path, changed)], ORIGIN) is not None
    [again] = settled(tracker, clock, changed)
    assert again.stat == changed


def test_forget_missing_drops_handled_files_a_scan_did_not_find():
    clock = Clock()
    tracker = Tracker(SettleMachine(settle_seconds=1.0), [ORIGIN], clock)
    path, stat = ROOT / "a.gguf", FileStat(100, 1, 7)
    tracker.feed([(path, stat)], ORIGIN)
    [item] = settled(tracker, clock, stat)
    assert tracker.hand_out(item)
    tracker.done(path, stat)
    tracker.forget_missing(ROOT, {str(ROOT / "other.gguf")})
    assert tracker.feed([(path, stat)], ORIGIN) is not None  # back: no longer known
