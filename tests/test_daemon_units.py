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


def test_journald_lines_all_carry_the_priority():
    import logging

    from modeld.cli.daemon import JournaldFormatter

    formatter = JournaldFormatter("%(name)s: %(message)s")
    record = logging.LogRecord("modeld", logging.ERROR, __file__, 1, "boom\nsecond line", (), None)
    assert formatter.format(record) == "<3>modeld: boom\n<3>second line"


def test_under_launchd_the_log_goes_to_a_file(tmp_path, monkeypatch):
    import logging

    from modeld.cli.daemon import configure_daemon_logging

    monkeypatch.setenv("MODELD_SERVICE", "launchd")
    # configure_daemon_logging changes process-wide state: the root handlers and
    # level, and the levels of the noisy libraries' loggers. All of it is put back,
    # or later tests would see INFO records on the root logger and the DEBUG logs
    # of urllib3/httpx/watchdog silenced, depending on which test ran first.
    root = logging.getLogger()
    saved = root.handlers[:]
    saved_levels = {
        name: logging.getLogger(name).level
        for name in ("", "apscheduler", "watchdog", "httpx", "httpx2", "urllib3", "PIL")
    }
    try:
        configure_daemon_logging(None, tmp_path, verbose=False)
        logging.getLogger("modeld.test").warning("hello file")
        handlers = logging.getLogger().handlers
        assert not any(type(h) is logging.StreamHandler for h in handlers)
        for handler in handlers:
            handler.flush()
        assert "hello file" in (tmp_path / "modeld.log").read_text()
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
