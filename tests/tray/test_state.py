"""The tray model: which status and events give which icon, counts and refreshes."""

from __future__ import annotations

from typing import Any

import pytest

from modeld.tray.menu import Action
from modeld.tray.state import IconState, TrayModel
from tests.tray.snapshots import T0, connected, entry, ev, model_object, status

# ---- icon state ----------------------------------------------------------------------------


def test_before_any_answer_the_icon_says_daemon_not_running():
    model = TrayModel(library_root="/lib", quarantine_dir="/q")
    assert model.icon_state() is IconState.DISCONNECTED


def test_idle_status_gives_the_idle_icon():
    assert connected().icon_state() is IconState.IDLE


def test_paused_status_and_state_events_switch_the_icon():
    model = connected(state="paused")
    assert model.icon_state() is IconState.PAUSED
    model.apply_event(ev("state", state="running"), T0)
    assert model.icon_state() is IconState.IDLE
    model.apply_event(ev("state", state="paused"), T0)
    assert model.icon_state() is IconState.PAUSED


def test_every_event_but_progress_moves_the_generation_a_snapshot_is_checked_against():
    model = connected()
    start = model.generation
    model.apply_event(ev("progress", path="/drop/a.safetensors", done=1, total=9), T0)
    assert model.generation == start  # progress streams; counting it would starve refreshes
    model.apply_event(ev("state", state="paused"), T0)
    assert model.generation == start + 1


def test_an_active_job_in_the_status_gives_the_importing_icon():
    queues = [{"device": "sda", "kind": "ssd", "pending": 2,
               "active": [{"path": "/drop/a.safetensors", "done": 10, "total": 100}]}]  # fmt: skip
    assert connected(queues=queues).icon_state() is IconState.IMPORTING


def test_import_events_start_and_end_the_importing_icon():
    model = connected()
    model.apply_event(ev("import_started", path="/drop/a.gguf", total=1000), T0)
    assert model.icon_state() is IconState.IMPORTING
    model.apply_event(ev("imported", path="/drop/a.gguf", model=model_object("a")), T0 + 1)
    assert model.icon_state() is IconState.IDLE


@pytest.mark.parametrize(
    "finish",
    [
        ev("duplicate", path="/drop/a.gguf", id="x"),
        ev("failed", path="/drop/a.gguf", reason="disk full"),
        ev("quarantined", path="/drop/a.gguf", reason="pickle imports os.system"),
    ],
)
def test_every_outcome_ends_the_job(finish):
    model = connected()
    model.apply_event(ev("import_started", path="/drop/a.gguf", total=10), T0)
    model.apply_event(finish, T0 + 1)
    assert model.active == {}


def test_an_imported_event_without_a_source_path_ends_the_job_that_read_everything():
    model = connected()
    model.apply_event(ev("import_started", path="/drop/a", total=10), T0)
    model.apply_event(ev("import_started", path="/drop/b", total=10), T0)
    model.apply_event(ev("progress", path="/drop/b", done=10, total=10), T0 + 1)
    model.apply_event(ev("imported", model=model_object("b")), T0 + 2)
    assert list(model.active) == ["/drop/a"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"quarantined": 2}, "2 files quarantined"),
        ({"links": {"ok": 1, "broken": 1, "missing": 2, "orphaned": 5}}, "3 broken links"),
        ({"errors": ["/drop/x: disk full"]}, "1 error"),
        ({"library": {"root": "/lib", "online": False}}, "library drive offline"),
    ],
)
def test_attention_reasons_give_the_attention_icon(overrides, reason):
    model = connected(**overrides)
    assert model.icon_state() is IconState.ATTENTION
    assert model.attention_reasons() == [reason]
    assert model.status_line(T0) == f"Needs attention: {reason}"


def test_orphaned_links_and_a_disabled_hub_are_not_problems():
    model = connected(
        links={"ok": 1, "broken": 0, "missing": 0, "orphaned": 4}, hub={"state": "disabled"}
    )
    assert model.icon_state() is IconState.IDLE
    assert not any("Hugging Face" in e.text for e in model.menu(T0))


def test_attention_outranks_importing_and_paused_outranks_attention():
    model = connected(quarantined=1)
    model.apply_event(ev("import_started", path="/drop/a", total=10), T0)
    assert model.icon_state() is IconState.ATTENTION
    model.apply_event(ev("state", state="paused"), T0)
    assert model.icon_state() is IconState.PAUSED
    assert "1 file waiting" in model.status_line(T0)


def test_opening_the_quarantine_folder_clears_attention_until_more_arrive():
    model = connected(quarantined=2)
    model.acknowledge_quarantine()
    assert model.icon_state() is IconState.IDLE
    model.apply_event(ev("quarantined", path="/drop/evil.pt", reason="os.system"), T0)
    assert model.icon_state() is IconState.ATTENTION
    assert model.attention_reasons() == ["1 file quarantined"]
    assert entry(model.menu(T0), "Quarantine").text == "Quarantine (3)"


def test_dismissing_errors_clears_attention_until_a_new_one_arrives():
    model = connected(errors=["a: bad"])
    model.acknowledge_errors()
    assert model.icon_state() is IconState.IDLE
    model.apply_status(status(errors=["a: bad", "b: worse"]), T0 + 1)
    assert model.attention_reasons() == ["1 error"]


def test_a_repair_that_left_links_broken_asks_for_attention():
    model = connected()
    model.apply_event(ev("links_repaired", fixed=0, unfixed=2), T0)
    assert model.attention_reasons() == ["2 broken links"]
    model.apply_status(status(), T0 + 1)  # a later status shows them all healthy
    assert model.icon_state() is IconState.IDLE


def test_library_events_switch_attention():
    model = connected()
    model.apply_event(ev("library", state="offline"), T0)
    assert model.icon_state() is IconState.ATTENTION
    model.apply_event(ev("library", state="online"), T0)
    assert model.icon_state() is IconState.IDLE


# ---- reconnection --------------------------------------------------------------------------


def test_disconnection_counts_down_to_the_next_try_and_recovers():
    model = connected()
    model.apply_event(ev("import_started", path="/d/a", total=10), T0)
    model.disconnected(T0, retry_at=T0 + 4)
    assert model.icon_state() is IconState.DISCONNECTED
    assert model.tooltip(T0 + 1) == "modeld: Daemon not running, retrying in 3 s"
    assert model.status_line(T0 + 5) == "Daemon not running, reconnecting…"
    assert model.active == {}  # nothing is importing while nobody is there
    model.apply_status(status(state="paused"), T0 + 6)
    assert model.icon_state() is IconState.PAUSED
    assert model.retry_at is None


def test_daemon_actions_are_disabled_while_disconnected_but_folders_still_open():
    model = TrayModel(library_root="/lib", quarantine_dir="/q", drop_folders=["/drop"])
    model.disconnected(T0, T0 + 1)
    menu = model.menu(T0)
    assert not entry(menu, "Pause").enabled
    assert not entry(menu, "Check links now").enabled
    assert entry(menu, "Open library folder").action == Action("open", "/lib")
    assert entry(menu, "Open drop folder").action == Action("open", "/drop")


def test_imports_finished_before_the_daemon_went_away_are_still_reported():
    model = connected()
    model.apply_event(ev("imported", path="/d/a", model=model_object("a")), T0)
    model.disconnected(T0 + 0.1, T0 + 1)
    assert [n.title for n in model.take_notifications(T0 + 0.1)] == ["Imported a"]


# ---- counts and refreshes ------------------------------------------------------------------


def test_queue_length_follows_the_queued_field_of_events_when_present():
    model = connected()
    model.apply_event(ev("import_started", path="/d/a", total=10, queued=41), T0)
    assert entry(model.menu(T0), "Queue").text == "Queue: 42"


def test_events_that_change_counts_ask_for_a_status_refresh_and_progress_does_not():
    model = connected()
    assert model.apply_event(ev("import_started", path="/d/a", total=10), T0)
    assert not model.apply_event(ev("progress", path="/d/a", done=5, total=10), T0)
    assert model.apply_event(ev("quarantined", path="/d/a", reason="r"), T0)
    assert not model.apply_event(ev("hub", state="offline", next_try=60), T0)


# ---- waiting files and errors --------------------------------------------------------------


def waiting_entry(name: str, reason: str) -> dict[str, Any]:
    return {"path": f"/drop/{name}", "reason": reason, "since": "2030-01-01T12:00:00+00:00"}


def test_waiting_and_error_counts_show_in_the_tooltip_and_menu():
    waiting = [waiting_entry(f"w{i}.gguf", "truncated: 10 of 4096 bytes") for i in range(6)]
    errors = [{"path": "/drop/notes.safetensors", "reason": "a text file, not a model"}]
    model = connected(waiting=waiting, errors=errors)
    assert "Waiting: 6, errors: 1" in model.tooltip(T0).splitlines()
    menu = model.menu(T0)
    children = entry(menu, "Waiting (6)").children
    assert [c.text for c in children] == [
        *(f"w{i}.gguf: truncated: 10 of 4096 bytes" for i in range(5)),
        "… and 1 more",
    ]
    assert not any(c.enabled for c in children)
    [error] = entry(menu, "Errors (1)").children[:1]
    assert error.text == "notes.safetensors: a text file, not a model"


def test_nothing_waiting_and_no_errors_add_nothing():
    model = connected()
    assert not any(line.startswith("Waiting") for line in model.tooltip(T0).splitlines())
    assert not [e for e in model.menu(T0) if e.text.startswith(("Waiting", "Errors"))]


def test_a_parked_file_asks_for_a_status_refresh_and_leaves_with_the_next_snapshot():
    model = connected()
    assert model.apply_event(ev("waiting", path="/drop/a.gguf", reason="truncated"), T0)
    model.apply_status(status(waiting=[waiting_entry("a.gguf", "truncated")]), T0 + 1)
    assert model.waiting == ["a.gguf: truncated"]
    model.apply_status(status(waiting=[]), T0 + 2)  # imported, refused or deleted
    assert model.waiting == []
    assert not [e for e in model.menu(T0 + 2) if e.text.startswith("Waiting")]
