"""Drop-folder listings kept across the watch's plans: the same plans as fresh
listings, a folder listed once per round, and never a plan from a stale one
that would hold a file back or name a file that is gone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modeld.ingest import listings as listings_module
from modeld.ingest.listings import Listings, related_names
from modeld.ingest.planner import plan_units
from tests import modelfiles


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def listdirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each folder listed meanwhile (the real listdir answers)."""
    seen: list[str] = []
    real = os.listdir

    def counted(folder: str | Path) -> list[str]:
        seen.append(str(folder))
        return real(folder)

    monkeypatch.setattr(listings_module.os, "listdir", counted)
    return seen


def busy_drop(drop: Path) -> list[Path]:
    """Models with companions, a shard set with its index, and neighbours named alike."""
    for name in ("detail", "detail-v2", "detailer", "other"):
        modelfiles.lora(drop / f"{name}.safetensors")
    for name in ("detail.preview.png", "detail.civitai.info", "detail-v2.yaml", "notes.txt"):
        (drop / name).write_text("x")
    modelfiles.make_shard_set(drop, base="llm", n=3)
    return sorted(drop.iterdir())


def test_kept_listings_plan_every_file_as_fresh_ones_do(drop: Path, listdirs: list[str]) -> None:
    files = busy_drop(drop)
    listdirs.clear()  # busy_drop's own
    kept = Listings(clock=Clock())
    plans = [plan_units([path], boundary=drop, listings=kept) for path in files]
    assert listdirs == [str(drop)]  # one listing for the whole round
    for path, plan in zip(files, plans, strict=True):
        assert plan == plan_units([path], boundary=drop), path


def test_related_names_are_found_by_prefix_in_a_kept_listing(drop: Path) -> None:
    busy_drop(drop)
    kept = Listings(clock=Clock())
    for name in ("detail.safetensors", "llm-00002-of-00003.safetensors", "notes.txt"):
        assert kept.related(drop, name) == sorted(related_names(name, os.listdir(drop)))
    assert kept.related(drop, "detail.safetensors") == [
        "detail-v2.safetensors",
        "detail-v2.yaml",
        "detail.civitai.info",
        "detail.preview.png",
        "detail.safetensors",
    ]


def test_a_related_name_gone_since_the_listing_is_dropped(drop: Path) -> None:
    busy_drop(drop)
    kept = Listings(clock=Clock())
    assert "detail.preview.png" in kept.related(drop, "detail.safetensors")
    (drop / "detail.preview.png").unlink()  # imported with another file, moved away
    assert "detail.preview.png" not in kept.related(drop, "detail.safetensors")


def test_a_file_the_listing_does_not_hold_gets_the_folder_listed_again(
    drop: Path, listdirs: list[str]
) -> None:
    busy_drop(drop)
    listdirs.clear()
    kept = Listings(clock=Clock())
    kept.related(drop, "other.safetensors")
    modelfiles.lora(drop / "late.safetensors")
    assert kept.related(drop, "late.safetensors") == ["late.safetensors"]
    assert listdirs == [str(drop), str(drop)]


def test_a_listing_is_kept_for_one_round_only(drop: Path, listdirs: list[str]) -> None:
    busy_drop(drop)
    listdirs.clear()
    clock = Clock()
    kept = Listings(clock=clock)
    kept.related(drop, "other.safetensors")
    (drop / "other.preview.png").write_text("x")
    # within the round the kept listing answers: the preview came as if just after
    assert kept.related(drop, "other.safetensors") == ["other.safetensors"]
    clock.now += listings_module.MAX_AGE + 0.01
    assert kept.related(drop, "other.safetensors") == ["other.preview.png", "other.safetensors"]
    assert len(listdirs) == 2


def test_a_shard_set_completed_since_the_listing_is_planned_whole(drop: Path) -> None:
    shards = modelfiles.make_shard_set(drop, base="llm", n=3, missing=[3])
    kept = Listings(clock=Clock())
    _, problems = plan_units([shards[0]], boundary=drop, listings=kept)
    assert [p.retry for p in problems] == [True]  # 2 of 3: the set waits
    modelfiles.make_shard_set(drop, base="llm", n=3)  # the last shard arrives
    units, problems = plan_units([shards[1]], boundary=drop, listings=kept)
    assert problems == []
    assert [(u.kind, len(u.files)) for u in units] == [("sharded", 4)]  # 3 shards + index
