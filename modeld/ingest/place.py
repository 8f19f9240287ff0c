"""Small facts about placing files: same device or not, same bytes or not, and why not.

How bytes get into staging (a hard link on one device, a hashed copy across)
is stage.py's; these are the checks and messages around it.
"""

from __future__ import annotations

import errno
import filecmp
import os
from pathlib import Path


def same_device(source: Path, folder: Path) -> bool:
    return os.lstat(source).st_dev == os.stat(folder).st_dev


def same_bytes(a: Path, b: Path) -> bool:
    """Byte-for-byte comparison: the proof needed before dropping a duplicate source."""
    try:
        return os.path.getsize(a) == os.path.getsize(b) and filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def describe_os_error(exc: OSError, path: Path) -> str:
    """One specific line per failure, naming the file."""
    if exc.errno == errno.ENOSPC:
        return f"disk full while writing to the library ({exc.filename or path})"
    if exc.errno == errno.EDQUOT:
        return f"disk quota exceeded while writing to the library ({exc.filename or path})"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied: {exc.filename or path}"
    if exc.errno == errno.ENOENT:
        return f"source vanished: {path}"
    if exc.errno == errno.EROFS:
        return f"read-only file system: {exc.filename or path}"
    if exc.errno == errno.ELOOP:
        return f"refusing to follow a symlink: {path}"
    return f"{exc.strerror or exc}: {exc.filename or path}"
