"""Small pure parts of the daemon."""

import pytest

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


@pytest.fixture
def restored_logging():
    """configure_daemon_logging changes process-wide state: the root handlers and
    level, and the levels of the noisy libraries' loggers. All of it is put back,
    or later tests would see INFO records on the root logger and the DEBUG logs
    of urllib3/httpx/watchdog silenced, depending on which test ran first."""
    import logging

    root = logging.getLogger()
    saved = root.handlers[:]
    saved_levels = {
        name: logging.getLogger(name).level
        for name in ("", "apscheduler", "watchdog", "httpx", "httpx2", "urllib3", "PIL")
    }
    yield root
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = saved
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)


def _log_and_flush(root, message: str) -> None:
    import logging

    logging.getLogger("modeld.test").warning(message)
    for handler in root.handlers:
        handler.flush()


def test_the_log_goes_to_stderr_and_a_file_in_the_state_dir(
    tmp_path, monkeypatch, capfd, restored_logging
):
    from modeld.cli.daemon import configure_daemon_logging

    monkeypatch.delenv("MODELD_SERVICE", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    configure_daemon_logging(tmp_path / "modeld.log", verbose=False)
    _log_and_flush(restored_logging, "hello both")
    assert "hello both" in (tmp_path / "modeld.log").read_text()
    assert "WARNING modeld.test: hello both" in capfd.readouterr().err


def test_under_launchd_the_log_goes_to_the_file_only(tmp_path, monkeypatch, restored_logging):
    import logging

    from modeld.cli.daemon import configure_daemon_logging

    monkeypatch.setenv("MODELD_SERVICE", "launchd")
    configure_daemon_logging(tmp_path / "modeld.log", verbose=False)
    _log_and_flush(restored_logging, "hello file")
    assert not any(type(h) is logging.StreamHandler for h in restored_logging.handlers)
    assert "hello file" in (tmp_path / "modeld.log").read_text()


def test_a_job_start_up_already_did_waits_one_interval_however_overdue(tmp_path):
    import time

    from modeld.library import db as index_db
    from modeld.scheduler import build_scheduler, last_run_key

    database = index_db.open_index(tmp_path / "index.db")
    try:
        for name in ("rescan", "verify"):
            index_db.set_state(last_run_key(name), "0")  # both long overdue
        before = time.time()
        jobs = {"rescan": (900.0, lambda: None), "verify": (3600.0, lambda: None)}
        scheduler = build_scheduler(jobs, on_error=print, done_at_start={"rescan"})
        rescan = scheduler.get_job("rescan").next_run_time.timestamp()
        verify = scheduler.get_job("verify").next_run_time.timestamp()
    finally:
        database.close()
    assert rescan >= before + 900.0  # the catch-up scan was the rescan
    assert verify <= time.time() + STARTUP_DELAY  # the others still catch up soon


def test_the_error_log_keeps_the_newest_with_path_reason_and_time():
    from modeld.errorlog import ErrorLog

    errors = ErrorLog(limit=60)
    for n in range(75):
        errors.add(f"/drop/f{n}.safetensors", f"reason {n}", 1_900_000_000.0 + n)
    errors.add(None, "job rescan failed: boom", 1_900_000_100.0)
    document = errors.to_json()
    assert len(document) == 60  # bounded, and above the contract's newest 50
    assert document[0] == {
        "path": "/drop/f16.safetensors",
        "reason": "reason 16",
        "time": "2030-03-17T17:46:56+00:00",
    }
    assert document[-1]["path"] is None and document[-1]["reason"] == "job rescan failed: boom"


def test_status_for_humans_counts_and_lists_what_waits_and_what_failed():
    from modeld.cli.daemon import held_lines

    waiting = [
        {"path": f"/drop/w{n}.gguf", "reason": "truncated", "since": "2030-01-01T12:00:00+00:00"}
        for n in range(7)
    ]
    errors = ["/drop/old: from an older daemon"] + [
        {"path": f"/drop/e{n}.safetensors", "reason": "a text file, not a model", "time": "t"}
        for n in range(6)
    ]
    lines = held_lines(waiting, errors)
    assert lines[0] == "waiting 7, errors 7"
    assert lines[1] == "  waiting: /drop/w0.gguf: truncated (since 2030-01-01T12:00:00+00:00)"
    assert lines[6] == "  ... and 2 more waiting (status --json)"
    assert lines[7] == "  error: /drop/e1.safetensors: a text file, not a model"
    assert lines[-1] == "  ... and 2 earlier errors (status --json)"
    assert held_lines([], []) == ["waiting 0, errors 0"]
