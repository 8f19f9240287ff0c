"""The tray's words for sizes, durations, counts and long names."""

from __future__ import annotations

from modeld.tray.wording import as_int, clip, count, duration, error_text, human_size, middle_clip


def test_human_size():
    assert [human_size(n) for n in (999, 8_500_000, 180_000_000, 6_900_000_000)] == [
        "999 B",
        "8.5 MB",
        "180 MB",
        "6.9 GB",
    ]


def test_durations_round_up_to_the_unit_shown():
    assert [duration(s) for s in (0.2, 59, 61, 3599, 3601, 7260)] == [
        "1 s",
        "59 s",
        "2 min",
        "1 h 00 min",
        "1 h 01 min",
        "2 h 01 min",
    ]


def test_long_names_keep_their_end_and_short_ones_stay_whole():
    name = "juggernautXL_ragnarokBy-v9-rundiffusionPhotoV2.Q4_K_M.safetensors"
    clipped = middle_clip(name, 40)
    assert len(clipped) == 40
    assert clipped.endswith("Q4_K_M.safetensors") and "…" in clipped
    assert middle_clip("a.gguf", 40) == "a.gguf"
    assert clip("abcdef", 4) == "abc…"


def test_counts_and_malformed_numbers():
    assert (count(1, "file"), count(2, "file"), count(0, "error")) == (
        "1 file",
        "2 files",
        "0 errors",
    )
    assert [as_int(v) for v in (None, "7", "x", 3.9, [])] == [0, 7, 0, 3, 0]


def test_status_entries_become_name_and_reason():
    assert error_text({"path": "/drop/a.gguf", "reason": "truncated"}) == "a.gguf: truncated"
    assert error_text({"reason": "disk full"}) == "disk full"
    assert error_text("an old daemon's string") == "an old daemon's string"
