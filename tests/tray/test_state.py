"""The tray's pure state: which status and events give which icon, tooltip, menu, notification."""

from __future__ import annotations

from typing import Any

import pytest

from modeld.tray.state import (
    RECENT_LIMIT,
    TOOLTIP_MAX,
    Action,
    IconState,
    MenuEntry,
    Notification,
    TrayModel,
    human_size,
    links_check_notification,
)

T0 = 1_800_000_000.0


def status(**overrides: Any) -> dict[str, Any]:
    """A `status` result as the daemon sends it: idle, nothing wrong."""
    document: dict[str, Any] = {
        "state": "running",
        "pid": 4242,
        "watching": [],
        "queues": [{"device": "sda", "kind": "ssd", "pending": 0, "active": []}],
        "imported": 0,
        "duplicates": 0,
        "quarantined": 0,
        "links": {"ok": 3, "broken": 0, "missing": 0, "orphaned": 0},
        "errors": [],
        "waiting": [],
        "recent": [],
        "imported_today": 0,
        "library": {"root": "/lib", "online": True},
        "hub": {"state": "online", "next_try": None},
        "quarantine_dir": "/lib/.modeld/quarantine",
        "drop_folders": ["/drop"],
    }
    document.update(overrides)
    return document


def model_object(name: str, model_type: str = "lora", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"id-{name}",
        "name": name,
        "model_type": model_type,
        "family": "sdxl",
        "size": 123_000_000,
        "path": f"/lib/{model_type}/sdxl/{name}",
        **extra,
    }


def connected(**overrides: Any) -> TrayModel:
    model = TrayModel(library_root="/cfg-lib", quarantine_dir="/cfg-q", drop_folders=["/cfg-drop"])
    model.apply_status(status(**overrides), T0)
    return model


def ev(kind: str, time: float = T0, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "time": time, **fields}


def entry(menu: tuple[MenuEntry, ...], prefix: str) -> MenuEntry:
    matches = [e for e in menu if e.text.startswith(prefix)]
    assert len(matches) == 1, [e.text for e in menu]
    return matches[0]


# ---- icon state --------------------------------------------------------------------------


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


# ---- tooltip -----------------------------------------------------------------------------


def test_tooltip_shows_file_percent_speed_eta_and_queue():
    model = connected(queues=[{"device": "sda", "kind": "ssd", "pending": 3, "active": []}])
    gb = 1_000_000_000
    model.apply_event(
        ev("import_started", T0, path="/drop/sd_xl_base_1.0.safetensors", total=7 * gb), T0
    )
    for second in (1, 2):
        sample = ev("progress", T0 + second, path="/drop/sd_xl_base_1.0.safetensors",
                    done=second * gb, total=7 * gb)  # fmt: skip
        model.apply_event(sample, T0 + second)
    tip = model.tooltip(T0 + 2)
    assert tip.splitlines() == [
        "modeld: Importing 1 file",
        "sd_xl_base_1.0.safetensors 28%",
        "1.0 GB/s, 5 s left",
        "3 queued",
    ]


def test_speed_is_smoothed_over_samples():
    model = connected()
    model.apply_event(ev("import_started", T0, path="/d/f", total=10_000_000_000), T0)
    for second, done in ((1, 100e6), (2, 200e6), (3, 600e6)):  # 100, 100, then 400 MB/s
        model.apply_event(
            ev("progress", T0 + second, path="/d/f", done=int(done), total=10**10), T0
        )
    # 0.3 * 400 + 0.7 * 100 = 190 MB/s, not the last instant's 400
    assert "190 MB/s" in model.tooltip(T0 + 3)


def test_tooltip_counts_other_jobs_and_eta_in_minutes():
    model = connected(queues=[{"device": "sda", "kind": "ssd", "pending": 0, "active": []}])
    model.apply_event(ev("import_started", T0, path="/d/a.gguf", total=10**10), T0)
    model.apply_event(ev("import_started", T0, path="/d/b.gguf", total=10**9), T0)
    model.apply_event(ev("progress", T0 + 1, path="/d/a.gguf", done=10**7, total=10**10), T0)
    model.apply_event(ev("progress", T0 + 2, path="/d/a.gguf", done=2 * 10**7, total=10**10), T0)
    lines = model.tooltip(T0 + 2).splitlines()
    assert lines[1] == "a.gguf 0%"
    assert lines[2] == "10 MB/s, 17 min left"
    assert lines[3] == "1 more importing"


def test_a_long_file_name_is_clipped_in_the_middle_and_the_tooltip_stays_short():
    name = "Meta-Llama-3.1-70B-Instruct-abliterated-v2-GGUF-Q4_K_M.gguf"
    model = connected(queues=[{"device": "sda", "kind": "ssd", "pending": 12_345, "active": []}])
    model.apply_event(ev("import_started", path=f"/drop/{name}", total=100), T0)
    tip = model.tooltip(T0)
    assert "Meta-Llama" in tip and "…" in tip and "GGUF-Q4_K_M.gguf" in tip
    assert len(tip) <= TOOLTIP_MAX


def test_idle_tooltip_tells_imports_today_and_paused_tooltip_the_waiting_count():
    assert connected(imported_today=7).tooltip(T0) == "modeld: Idle\nImported today: 7"
    waiting = [{"device": "sda", "kind": "ssd", "pending": 4, "active": []}]
    assert (
        connected(state="paused", queues=waiting).tooltip(T0) == "modeld: Paused, 4 files waiting"
    )


def test_human_size():
    assert [human_size(n) for n in (999, 8_500_000, 180_000_000, 6_900_000_000)] == [
        "999 B",
        "8.5 MB",
        "180 MB",
        "6.9 GB",
    ]


# ---- reconnection ------------------------------------------------------------------------


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


# ---- menu --------------------------------------------------------------------------------


def test_menu_has_every_item_in_order():
    model = connected(
        imported_today=3,
        quarantined=1,
        queues=[{"device": "sda", "kind": "ssd", "pending": 2,
                 "active": [{"path": "/d/a", "done": 1, "total": 2}]}],
        recent=[model_object("b"), model_object("a")],
    )  # fmt: skip
    texts = [e.text for e in model.menu(T0)]
    assert texts == [
        "Needs attention: 1 file quarantined",
        "Imported today: 3",
        "Queue: 3",
        "-",
        "Pause",
        "Check links now",
        "-",
        "Open library folder",
        "Open drop folder",
        "Recent imports",
        "Quarantine (1)",
        "-",
        "Quit tray",
    ]
    menu = model.menu(T0)
    assert not menu[0].enabled and not menu[1].enabled and not menu[2].enabled
    assert entry(menu, "Pause").action == Action("pause")
    assert entry(menu, "Check links now").action == Action("links_check")
    # the status's paths win over the config's
    assert entry(menu, "Open library folder").action == Action("open", "/lib")
    assert entry(menu, "Open drop folder").action == Action("open", "/drop")
    assert entry(menu, "Quarantine").action == Action("open_quarantine", "/lib/.modeld/quarantine")
    assert entry(menu, "Quit tray").action == Action("quit")


def test_pause_becomes_resume_when_paused():
    menu = connected(state="paused").menu(T0)
    assert entry(menu, "Resume").action == Action("resume")
    assert not [e for e in menu if e.text == "Pause"]


def test_recent_imports_list_the_newest_ten_each_opening_its_folder():
    model = connected(recent=[model_object(f"old{i}") for i in range(10)])
    model.apply_event(ev("imported", path="/d/new", model=model_object("new", "checkpoint")), T0)
    children = entry(model.menu(T0), "Recent imports").children
    assert len(children) == RECENT_LIMIT
    assert children[0].text == "new (checkpoint)"
    assert children[0].action == Action("open", "/lib/checkpoint/sdxl/new")
    assert children[-1].text == "old8 (lora)"


def test_a_reimported_model_moves_to_the_top_once():
    model = connected(recent=[model_object("a"), model_object("b")])
    model.apply_event(ev("imported", path="/d/b", model=model_object("b")), T0)
    assert [c.text for c in entry(model.menu(T0), "Recent imports").children] == [
        "b (lora)",
        "a (lora)",
    ]


def test_empty_recent_and_no_drop_folder_are_disabled_entries():
    model = connected(drop_folders=[], recent=[])
    menu = model.menu(T0)
    assert not entry(menu, "Recent imports").enabled
    assert not entry(menu, "Open drop folder").enabled


def test_several_drop_folders_become_a_submenu():
    menu = connected(drop_folders=["/a", "/b"]).menu(T0)
    children = entry(menu, "Open drop folder").children
    assert [(c.text, c.action) for c in children] == [
        ("/a", Action("open", "/a")),
        ("/b", Action("open", "/b")),
    ]


def test_errors_are_listed_with_a_dismiss_entry():
    errors = [f"/drop/f{i}: reason {i}" for i in range(7)]
    menu = connected(errors=errors).menu(T0)
    children = entry(menu, "Errors (7)").children
    assert [c.text for c in children[:5]] == errors[-5:]
    assert children[-1].action == Action("dismiss_errors")


def test_an_unreachable_hub_is_mentioned_with_its_retry_time():
    menu = connected(hub={"state": "offline", "next_try": 300}).menu(T0 + 60)
    assert "Hugging Face unreachable, retrying in 4 min" in [e.text for e in menu]


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


# ---- notifications and batching ----------------------------------------------------------


def drain(model: TrayModel, now: float) -> list[Notification]:
    return model.take_notifications(now)


def test_a_burst_of_fifty_imports_is_one_notification():
    model = connected(queues=[{"device": "sda", "kind": "ssd", "pending": 50, "active": []}])
    for i in range(50):
        t = T0 + i
        model.apply_event(ev("import_started", t, path=f"/d/m{i}", total=1), t)
        model.apply_event(ev("imported", t, path=f"/d/m{i}", model=model_object(f"m{i}")), t)
        model.queued = 49 - i  # what the status refresh after each event would say
        assert drain(model, t + 0.5) == []  # still busy: hold
    assert drain(model, T0 + 49 + 1) == []  # idle, but not quiet for long enough yet
    notes = drain(model, T0 + 49 + 2.5)
    assert notes == [Notification("imported", "Imported 50 models", "m0, m1, m2 and 47 more")]
    assert drain(model, T0 + 100) == []  # said once


def test_a_single_import_names_the_model():
    model = connected()
    model.apply_event(ev("imported", path="/d/x", model=model_object("Juggernaut XL")), T0)
    (note,) = drain(model, T0 + 3)
    assert note.kind == "imported"
    assert note.title == "Imported Juggernaut XL"
    assert note.body == "lora, sdxl, 123 MB"


def test_a_long_session_reports_at_most_every_max_hold():
    model = TrayModel(library_root="/l", quarantine_dir="/q", batch_max_hold=300)
    busy = [{"device": "s", "kind": "hdd", "pending": 1000, "active": []}]
    model.apply_status(status(queues=busy), T0)
    model.apply_event(ev("imported", path="/d/a", model=model_object("a")), T0)
    assert drain(model, T0 + 299) == []
    model.apply_event(ev("imported", path="/d/b", model=model_object("b")), T0 + 299)
    assert [n.title for n in drain(model, T0 + 300)] == ["Imported 2 models"]


def test_duplicates_failures_and_quarantine_in_one_burst():
    model = connected()
    model.apply_event(ev("imported", path="/d/a", model=model_object("a")), T0)
    model.apply_event(ev("duplicate", path="/d/a-copy.safetensors", id="id-a"), T0)
    model.apply_event(ev("failed", path="/d/broken.gguf", reason="truncated header"), T0)
    model.apply_event(ev("quarantined", path="/d/evil.ckpt", reason="imports os.system"), T0)
    notes = drain(model, T0 + 3)
    assert notes == [
        Notification(
            "imported",
            "Imported a",
            "lora, sdxl, 123 MB\n1 duplicate skipped (already in the library)\n"
            "1 file failed: broken.gguf: truncated header",
        ),
        Notification("quarantined", "Quarantined evil.ckpt", "imports os.system"),
    ]


def test_only_duplicates():
    model = connected()
    for name in ("a.safetensors", "b.safetensors"):
        model.apply_event(ev("duplicate", path=f"/d/{name}", id="x"), T0)
    (note,) = drain(model, T0 + 3)
    assert note.title == "2 duplicates skipped"
    assert note.body == "Already in the library: a.safetensors, b.safetensors"


def test_many_quarantined_files_are_one_notification_with_reasons():
    model = connected()
    for i in range(5):
        model.apply_event(ev("quarantined", path=f"/d/bad{i}.pt", reason=f"reason {i}"), T0)
    (note,) = drain(model, T0 + 3)
    assert note.title == "5 files quarantined"
    assert note.body.splitlines() == [
        "bad0.pt: reason 0",
        "bad1.pt: reason 1",
        "bad2.pt: reason 2",
        "and 2 more",
    ]


def test_links_repaired_notifies_what_was_and_was_not_fixed():
    model = connected()
    model.apply_event(ev("links_repaired", fixed=0, unfixed=0), T0)
    assert drain(model, T0) == []  # a repair run that found nothing says nothing
    model.apply_event(ev("links_repaired", fixed=3, unfixed=0), T0)
    model.apply_event(ev("links_repaired", fixed=1, unfixed=2), T0)
    assert drain(model, T0) == [
        Notification("links", "Links repaired", "Repaired 3 links"),
        Notification(
            "links", "Some links could not be repaired", "Repaired 1 link; 2 links still broken"
        ),
    ]


def test_library_drive_notifications_on_changes_only():
    model = connected()  # online at first: no notification for what was already so
    assert drain(model, T0) == []
    model.apply_event(ev("library", state="offline"), T0)
    model.apply_event(ev("library", state="offline"), T0)
    model.apply_status(status(library={"root": "/lib", "online": True}), T0)
    assert drain(model, T0) == [
        Notification(
            "library",
            "Library drive offline",
            "/lib is not reachable; imports wait until it is back",
        ),
        Notification("library", "Library drive is back", "/lib is reachable again"),
    ]


def test_links_check_result_notification():
    result = {"checked": 5, "ok": 3, "broken": [{"path": "/x"}], "missing": [{"path": "/y"}],
              "orphaned": []}  # fmt: skip
    assert links_check_notification(result) == Notification(
        "links", "2 links need repair", "5 checked: 3 ok, 1 broken, 1 missing, 0 orphaned"
    )
    clean = {"checked": 2, "ok": 2, "broken": [], "missing": [], "orphaned": []}
    assert links_check_notification(clean).title == "Links are fine"


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
