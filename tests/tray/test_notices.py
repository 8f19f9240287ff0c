"""The tray's notifications: one per burst of imports, links and the library drive."""

from __future__ import annotations

from modeld.tray.notices import Notification, links_check_notification
from modeld.tray.state import TrayModel
from tests.tray.snapshots import T0, connected, ev, model_object, status


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
