"""Excluded folders, spelled under the watch root however they were configured."""

from __future__ import annotations

from modeld.watch.exclusions import exclusions_under, under_any


def test_an_exclusion_reached_through_a_symlink_is_spelled_under_the_root(tmp_path):
    real = tmp_path / "real"
    (real / "library").mkdir(parents=True)
    root = tmp_path / "drop"
    root.symlink_to(real)
    assert exclusions_under(root, [real / "library"]) == [str(root / "library")]


def test_exclusions_outside_the_root_or_the_root_itself_are_left_out(tmp_path):
    root = tmp_path / "drop"
    (root / "lib").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    found = exclusions_under(root, [tmp_path / "elsewhere", root / "lib", root / "not-yet"])
    assert found == [str(root / "lib"), str(root / "not-yet")]


def test_under_any_matches_whole_components_only():
    assert under_any("/drop/lib/a.gguf", ["/drop/lib"])
    assert under_any("/drop/lib", ["/drop/lib"])
    assert not under_any("/drop/library/a.gguf", ["/drop/lib"])
    assert not under_any("/drop/a.gguf", [])
