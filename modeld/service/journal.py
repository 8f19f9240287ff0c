"""Logging to the systemd journal through stderr, without a dependency.

Under systemd, stderr is connected to journald and ``$JOURNAL_STREAM`` names
that stream as ``<device>:<inode>`` (systemd.exec(5)). journald then reads a
``<N>`` prefix on each line as the syslog priority (sd-daemon(3)) and adds its
own timestamp, so the daemon should write neither a timestamp nor colour.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TextIO

# syslog priorities: 3 err, 4 warning, 6 info, 7 debug (sd-daemon(3) SD_ERR ...)
_PRIORITIES = ((logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


def stderr_is_journal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when `stream` is the journal stream systemd connected us to.

    Comparing device and inode (rather than only checking the variable exists)
    matters: a child started from a service inherits ``$JOURNAL_STREAM`` even
    when its stderr was redirected elsewhere.
    """
    environ = os.environ if environ is None else environ
    value = environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):  # closed, or not backed by a file descriptor
        return False
    return (info.st_dev, info.st_ino) == (int(device), int(inode))


def journal_priority(levelno: int) -> int:
    for threshold, priority in _PRIORITIES:
        if levelno >= threshold:
            return priority
    return 7


class JournalFormatter(logging.Formatter):
    """``<priority>logger: message``; a multi-line record (a traceback) keeps its
    priority on every line, because journald splits entries at newlines."""

    def __init__(self, fmt: str = "%(name)s: %(message)s"):
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{journal_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())
