"""Imports in flight as the tooltip shows them: percent, smoothed speed, time left, clipping."""

from __future__ import annotations

from modeld.tray.state import TOOLTIP_MAX
from tests.tray.snapshots import T0, connected, ev


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
