"""journald's stderr protocol: which stream is the journal, and <N> priority prefixes."""

from __future__ import annotations

import logging
import os
import sys

from modeld.service.journal import JournalFormatter, journal_priority, stderr_is_journal


def stream_id(handle) -> str:
    info = os.fstat(handle.fileno())
    return f"{info.st_dev}:{info.st_ino}"


def test_the_journal_stream_is_recognised_by_device_and_inode(tmp_path):
    with open(tmp_path / "journal", "w") as journal, open(tmp_path / "other", "w") as other:
        environ = {"JOURNAL_STREAM": stream_id(journal)}
        assert stderr_is_journal(journal, environ)
        # inherited variable, but this stderr was redirected elsewhere
        assert not stderr_is_journal(other, environ)
    with open(tmp_path / "journal", "w") as journal:
        assert not stderr_is_journal(journal, {})
        assert not stderr_is_journal(journal, {"JOURNAL_STREAM": "garbage"})


def test_a_closed_stream_is_not_the_journal(tmp_path):
    handle = open(tmp_path / "f", "w")  # noqa: SIM115 - closed on purpose below
    environ = {"JOURNAL_STREAM": stream_id(handle)}
    handle.close()
    assert not stderr_is_journal(handle, environ)


def test_priorities_follow_syslog_levels():
    assert journal_priority(logging.CRITICAL) == 3
    assert journal_priority(logging.ERROR) == 3
    assert journal_priority(logging.WARNING) == 4
    assert journal_priority(logging.INFO) == 6
    assert journal_priority(logging.DEBUG) == 7


def test_every_line_of_a_traceback_keeps_its_priority():
    formatter = JournalFormatter()
    try:
        raise ValueError("bad header")
    except ValueError:
        record = logging.LogRecord(
            "modeld.ingest",
            logging.ERROR,
            __file__,
            1,
            "import failed",
            None,
            sys.exc_info(),
        )
    lines = formatter.format(record).splitlines()
    assert lines[0] == "<3>modeld.ingest: import failed"
    assert len(lines) > 2
    assert all(line.startswith("<3>") for line in lines)
    assert lines[-1] == "<3>ValueError: bad header"
