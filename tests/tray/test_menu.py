"""The tray menu: every entry in order, and the lists it shows."""

from __future__ import annotations

from modeld.tray.menu import RECENT_LIMIT, Action
from tests.tray.snapshots import T0, connected, entry, ev, model_object


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
