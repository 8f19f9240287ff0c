"""The settle machine's timetable: moving a path's time back and forth, forgetting it."""

from __future__ import annotations

from modeld.watch.due import DueTimes


def test_a_path_moved_later_is_not_due_at_its_old_time():
    due = DueTimes()
    due.schedule("a", 1.0)
    due.schedule("a", 5.0)
    assert due.when("a") == 5.0
    assert due.pop_due(1.0) == []
    assert due.next_wakeup() == 5.0  # re-queued at its new time when the old one came up
    assert due.pop_due(4.9) == []
    assert due.pop_due(5.0) == ["a"]
    assert due.next_wakeup() is None


def test_a_path_moved_earlier_comes_up_once():
    due = DueTimes()
    due.schedule("a", 5.0)
    due.schedule("a", 2.0)
    assert due.next_wakeup() == 2.0
    assert due.pop_due(2.0) == ["a"]
    assert due.pop_due(10.0) == []  # the item at 5.0 is stale
    assert due.next_wakeup() is None


def test_a_forgotten_path_never_comes_up():
    due = DueTimes()
    due.schedule("a", 1.0)
    due.schedule("b", 2.0)
    due.forget("a")
    assert due.next_wakeup() == 2.0
    assert due.pop_due(3.0) == ["b"]


def test_paths_due_at_once_come_in_time_then_scheduling_order():
    due = DueTimes()
    for key, when in (("c", 2.0), ("a", 1.0), ("b", 2.0)):
        due.schedule(key, when)
    assert due.pop_due(2.0) == ["a", "c", "b"]


def test_a_popped_path_can_be_scheduled_again():
    due = DueTimes()
    due.schedule("a", 1.0)
    assert due.pop_due(1.0) == ["a"]
    due.schedule("a", 3.0)
    assert due.pop_due(2.0) == []
    assert due.pop_due(3.0) == ["a"]
