"""Getting bytes into the library: rename on one device, copy+hash+fsync across.

Both paths read each byte exactly once: a rename moves no data and is then
hashed in place; a copy hashes the bytes as they stream to the staging file.
"""

from __future__ import annotations

import errno
import filecmp
import os
from pathlib import Path

from modeld.vocab.hashing import Digests, ProgressFn, hash_file


def same_device(source: Path, folder: Path) -> bool:
    return os.lstat(source).st_dev == os.stat(folder).st_dev


def move_within_device(source: Path, staged: Path) -> None:
    """Move a file without copying: a hard link, then unlink the source.

    Not a rename, because a rename out of a watched folder makes watchdog hold
    back every later event for half a second, waiting for a matching
    MOVED_TO that never comes; link + unlink reports a plain deletion. A crash
    in between leaves two names for one inode, which the journal rolls back.
    File systems without hard links get the rename.
    """
    try:
        os.link(source, staged, follow_symlinks=False)
    except OSError:
        os.rename(source, staged)
        return
    os.unlink(source)


def rename_and_hash(source: Path, staged: Path, progress: ProgressFn | None) -> Digests:
    move_within_device(source, staged)
    return hash_file(staged, progress)


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
