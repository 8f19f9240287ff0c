"""Writeback started as a file is written: the real syscall on a real file.

The windows and lag are shrunk to 64 KiB so a few hundred KiB exercise every
step; the recorder around libc's sync_file_range calls the real thing and only
notes what was asked, so the test sees both the pattern and the kernel's answer.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from dataclasses import dataclass

import pytest

from modeld.vocab.writeback import (
    SYNC_FILE_RANGE,
    SYNC_FILE_RANGE_WAIT_AFTER,
    SYNC_FILE_RANGE_WAIT_BEFORE,
    SYNC_FILE_RANGE_WRITE,
    Writeback,
)

WINDOW = 64 * 1024
WAIT = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="sync_file_range is Linux's"
)


@dataclass(frozen=True)
class Call:
    offset: int
    nbytes: int
    flags: int
    result: int


class Recorder:
    """libc's sync_file_range, noting each call and what the kernel returned."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def __call__(self, fd: int, offset: int, nbytes: int, flags: int) -> int:
        assert SYNC_FILE_RANGE is not None
        result = SYNC_FILE_RANGE(fd, offset, nbytes, flags)
        self.calls.append(Call(offset, nbytes, flags, result))
        return result


def write_windows(fd: int, writeback: Writeback, count: int, tail: int = 0) -> None:
    for _ in range(count):
        os.write(fd, os.urandom(WINDOW))
        writeback.wrote(os.lseek(fd, 0, os.SEEK_CUR))
    if tail:
        os.write(fd, os.urandom(tail))
        writeback.wrote(os.lseek(fd, 0, os.SEEK_CUR))


@linux_only
def test_libc_sync_file_range_is_found_on_linux():
    # Python's os module has no sync_file_range; a lookup by hasattr(os, ...) never found
    # it, so no copy ever started writeback before the final fsync.
    assert not hasattr(os, "sync_file_range")
    assert SYNC_FILE_RANGE is not None


@linux_only
def test_each_window_is_started_as_written_and_waited_on_lag_windows_behind(tmp_path):
    recorder = Recorder()
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        writeback = Writeback(fd, window=WINDOW, lag=2, sync_file_range=recorder)
        write_windows(fd, writeback, 10, tail=100)
    finally:
        os.close(fd)
    assert all(call.result == 0 and call.nbytes == WINDOW for call in recorder.calls)
    starts = [c.offset // WINDOW for c in recorder.calls if c.flags == SYNC_FILE_RANGE_WRITE]
    waits = [c.offset // WINDOW for c in recorder.calls if c.flags == WAIT]
    assert starts == list(range(10))  # the 100-byte tail is left to the final fsync
    assert waits == list(range(8))  # never more than lag windows in flight
    assert (writeback.started, writeback.waited) == (10 * WINDOW, 8 * WINDOW)
    for position, call in enumerate(recorder.calls):
        if call.flags == WAIT:  # a window is waited on only after it was started
            started = [c for c in recorder.calls[:position] if c.flags == SYNC_FILE_RANGE_WRITE]
            assert call.offset in {c.offset for c in started}


def test_without_sync_file_range_nothing_happens_until_the_fsync(tmp_path):
    # The macOS path (and any libc without the call): a no-op, the fsync does the writing.
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        writeback = Writeback(fd, window=WINDOW, lag=2, sync_file_range=None)
        write_windows(fd, writeback, 4)
    finally:
        os.close(fd)
    assert not writeback.active
    assert (writeback.started, writeback.waited) == (0, 0)
    assert (tmp_path / "f").stat().st_size == 4 * WINDOW


@linux_only
def test_a_file_that_cannot_take_it_falls_back_quietly():
    # A pipe is a real descriptor the kernel refuses (ESPIPE), as some filesystems do.
    recorder = Recorder()
    read_end, write_end = os.pipe()
    try:
        writeback = Writeback(write_end, window=WINDOW, lag=2, sync_file_range=recorder)
        writeback.wrote(3 * WINDOW)
        writeback.wrote(6 * WINDOW)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert [call.result for call in recorder.calls] == [-1]  # asked once, then never again
    assert not writeback.active


def test_a_write_error_from_a_wait_is_raised(tmp_path):
    # A real EIO needs a failing disk; this stand-in returns what the kernel would. It must
    # be raised: the wait consumes the error (errseq), so the final fsync would not see it.
    def failing_wait(fd: int, offset: int, nbytes: int, flags: int) -> int:
        if flags & SYNC_FILE_RANGE_WAIT_AFTER:
            ctypes.set_errno(errno.EIO)
            return -1
        return 0

    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        writeback = Writeback(fd, window=WINDOW, lag=1, sync_file_range=failing_wait)
        writeback.wrote(WINDOW)  # started, nothing to wait on yet
        with pytest.raises(OSError) as raised:
            writeback.wrote(2 * WINDOW)
    finally:
        os.close(fd)
    assert raised.value.errno == errno.EIO
