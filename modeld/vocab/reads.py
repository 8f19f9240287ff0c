"""Careful reads of files that may be hostile or half-written.

A file under a watched folder can be a FIFO that would block an open
forever, a device, or a JSON "companion" of a gigabyte. Everything that
reads such a file opens it here: without blocking, only when it is a
regular file, and JSON only up to a cap. A file that cannot be read as
needed raises `Malformed`, with `retry=True` when waiting may fix it (a
transient I/O error, a download still being written).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from modeld.errors import ModeldError

MAX_CONFIG_BYTES = 1 << 20
MAX_INDEX_BYTES = 32 << 20
# errors that may go away by themselves: worth a retry, not a refusal
TRANSIENT_ERRNOS = frozenset(
    {errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.EHOSTDOWN, errno.ESTALE}
)


class Malformed(ModeldError):
    """A file's bytes are not what the reader needs (or cannot be read at all)."""

    def __init__(self, reason: str, *, retry: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def open_regular(path: Path) -> tuple[BinaryIO, int]:
    """Open without blocking on FIFOs or devices; raises Malformed for anything but a
    regular file. Returns the open handle and the file's size."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Malformed(
            f"cannot open: {exc.strerror}", retry=exc.errno in TRANSIENT_ERRNOS
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise Malformed(f"not a regular file ({file_kind(info.st_mode)})")
    return os.fdopen(fd, "rb"), info.st_size


def file_kind(mode: int) -> str:
    """What a non-regular file is, for a message ('a FIFO', 'a socket'...)."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def read_json_object(path: Path, cap: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    """The JSON object in `path`; raises Malformed when it is missing, too big or not an object."""
    try:
        handle, size = open_regular(path)
    except Malformed as exc:
        raise Malformed(f"{path.name}: {exc.reason}", retry=exc.retry) from None
    with handle:
        if size > cap:
            raise Malformed(f"{path.name} is {size} bytes (cap {cap})")
        raw = handle.read(cap + 1)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise Malformed(f"{path.name} is not valid JSON: {str(exc)[:100]}") from None
    if not isinstance(value, dict):
        raise Malformed(f"{path.name} is not a JSON object")
    return value


def read_optional_json(path: Path, cap: int = MAX_CONFIG_BYTES) -> dict[str, Any] | None:
    """A companion that helps identification but is not required: None when unusable."""
    try:
        return read_json_object(path, cap)
    except (Malformed, OSError):
        return None
