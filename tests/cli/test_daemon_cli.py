"""The daemon commands' own parts: the log set-up of `modeld run`, status for humans."""

import pytest


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


def test_status_for_humans_counts_and_lists_what_waits_and_what_failed():
    from modeld.cli.status import held_lines

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
