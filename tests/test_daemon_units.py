"""Small pure parts of the daemon."""

from modeld.daemon import prune_empty_folders
from modeld.scheduler import STARTUP_DELAY, first_run


def test_prune_removes_only_empty_folders_below_the_root(tmp_path):
    root = tmp_path / "drop"
    deep = root / "org" / "repo" / "snapshot"
    deep.mkdir(parents=True)
    (root / "org" / "keep.txt").write_text("a user's note")
    prune_empty_folders(deep, root)
    assert not (root / "org" / "repo").exists()
    assert (root / "org" / "keep.txt").exists()
    assert root.exists()


def test_prune_never_leaves_the_root(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    prune_empty_folders(outside, tmp_path / "drop")
    assert outside.exists()


def test_first_run_catches_up_missed_runs_but_not_too_early():
    assert first_run(None, 3600, now=1000.0) == 4600.0
    assert first_run(0.0, 3600, now=100_000.0) == 100_000.0 + STARTUP_DELAY  # overdue
    assert first_run(99_000.0, 3600, now=100_000.0) == 102_600.0  # not yet due
