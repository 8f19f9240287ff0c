"""What the watch holds back, and why: the settle machine's `held` and its wording."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from modeld.watch.events import EventKind, FileStat, Origin
from modeld.watch.held import Held, hold_reason, on_wall_clock
from modeld.watch.settle import SettleMachine

ROOT = Path("/drop")
INOTIFY = Origin(ROOT, closes=True, tag=0)
POLLING = Origin(ROOT, closes=False, tag=1)


def settle(machine: SettleMachine, path: Path, stat: FileStat, now: float) -> float:
    """Stat what the machine asks for until `path` is ready; returns the time it became so."""
    while not machine.is_ready(path):
        now += 0.5
        for due in machine.due(now):
            machine.observe(due, stat, now)
        assert now < 1000, "never became ready"
    return now


def reasons(machine: SettleMachine) -> dict[Path, str]:
    return {item.path: item.reason for item in machine.held()}


def test_a_file_being_written_is_held_with_why_and_since_when():
    machine = SettleMachine(settle_seconds=2.0)
    path = ROOT / "big.safetensors"
    machine.event(EventKind.CREATED, path, 10.0, origin=INOTIFY)
    machine.event(EventKind.MODIFIED, path, 11.0, origin=INOTIFY)
    [held] = machine.held()
    assert (held.path, held.tag, held.since, held.until) == (path, 0, 10.0, None)
    assert held.reason == "still being written (a program has it open)"


def test_a_parked_truncated_file_keeps_its_reason_first_sighting_and_deadline():
    machine = SettleMachine(settle_seconds=1.0, truncated_grace=600.0)
    path = ROOT / "cut.safetensors"
    stat = FileStat(100, 1, 7)
    machine.seen(path, stat, 5.0, origin=POLLING)
    now = settle(machine, path, stat, 5.0)
    machine.hand_out(path)
    assert machine.held() == []  # handed out: the caller has it, the watch holds nothing
    machine.retry_later(path, "truncated: header says 4096 bytes", now)
    [held] = machine.held()
    assert held.reason == "truncated: header says 4096 bytes (retried when it changes)"
    assert (held.since, held.until) == (5.0, now + 600.0)

    # the download resumes: it settles again, is still short, is parked again
    grown = FileStat(200, 2, 7)
    machine.event(EventKind.MODIFIED, path, now + 30, origin=POLLING)
    assert reasons(machine)[path].startswith("being checked for completeness")
    later = settle(machine, path, grown, now + 30)
    machine.hand_out(path)
    machine.retry_later(path, "truncated: header says 4096 bytes", later)
    [held] = machine.held()
    assert (held.since, held.until) == (5.0, later + 600.0)  # since the first sighting


def test_a_held_file_leaves_when_it_is_done_or_deleted():
    machine = SettleMachine(settle_seconds=1.0)
    kept, deleted = ROOT / "a.gguf", ROOT / "b.gguf"
    stat = FileStat(10, 1, 1)
    for path in (kept, deleted):
        machine.seen(path, stat, 0.0, origin=POLLING)
    assert set(reasons(machine)) == {kept, deleted}
    machine.event(EventKind.DELETED, deleted, 0.5, origin=POLLING)
    now = settle(machine, kept, stat, 0.5)
    assert reasons(machine) == {kept: "complete; waiting for room in the import queue"}
    machine.hand_out(kept)
    machine.done(kept, stat, now)
    assert machine.held() == []


def test_the_wording_names_the_most_decisive_cause():
    facts = dict(retry_reason=None, ready=False, size=10, sidecar=False, open_writer=False)
    assert hold_reason(**facts | {"retry_reason": "cannot read: EIO", "ready": True}) == (
        "cannot read: EIO (retried when it changes)"
    )
    assert hold_reason(**facts | {"sidecar": True, "open_writer": True}).startswith("aria2")
    assert hold_reason(**facts | {"size": 0}) == "empty so far; waiting for its content"
    assert hold_reason(**facts | {"size": None}).startswith("being checked")


def test_machine_times_become_wall_clock_times_measured_back_from_now():
    held = Held(ROOT / "x.gguf", 0, "truncated", since=100.0, until=1900.0)
    wall_now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC).timestamp()
    waiting = on_wall_clock(held, now=400.0, wall_now=wall_now)
    assert waiting.to_json() == {
        "path": "/drop/x.gguf",
        "reason": "truncated",
        "since": "2030-01-01T11:55:00+00:00",
        "until": "2030-01-01T12:25:00+00:00",
    }
    settling = on_wall_clock(Held(ROOT / "y.gguf", 0, "being checked", 399.0), 400.0, wall_now)
    assert "until" not in settling.to_json()
