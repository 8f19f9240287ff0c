"""One durable flush for a whole batch of staged files.

The batch-fsync idea of git's core.fsyncMethod=batch: write everything into
a place nobody reads yet (the staging folder; git's temporary object dir),
flush once, and only then rename it into place. On Linux the one flush is
`syncfs(2)` on each file system involved: it writes back every dirty page and
inode there and then flushes the disk's cache, and since Linux 5.8 it reports
writeback errors met since the last call. git itself writes each file out with
sync_file_range and then fsyncs one dummy file; that relies on the file
system flushing the others' metadata too, which ext4/xfs do not promise.
Without syncfs (macOS, BSDs) each file and folder is fsynced: slower, as safe.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def _libc_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function  # ctypes releases the GIL for the call


SYNCFS: Callable[[int], int] | None = _libc_syncfs()


def flush(folders: Iterable[Path], every_path: Callable[[], Iterable[Path]]) -> None:
    """Make all the data and names written under `folders` durable.

    `every_path` lists each file and folder written, for the fallback only
    (listing them costs time that syncfs does not need).
    """
    if SYNCFS is not None:
        seen: set[int] = set()
        for folder in folders:
            fd = os.open(folder, os.O_RDONLY)
            try:
                device = os.fstat(fd).st_dev
                if device not in seen:
                    seen.add(device)
                    if SYNCFS(fd) != 0:
                        code = ctypes.get_errno()
                        raise OSError(code, f"syncfs: {os.strerror(code)}", str(folder))
            finally:
                os.close(fd)
        return
    for path in every_path():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
