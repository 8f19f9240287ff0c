"""Dispatch on the leading bytes to the right format parser."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from modeld.ingest.formats import Refused, SniffResult, Sniffed


def sniff_file(path: Path) -> SniffResult:
    try:
        info = os.lstat(path)
    except OSError as exc:
        return Refused(f"cannot stat: {exc.strerror}")
    if not stat.S_ISREG(info.st_mode):
        return Refused("not a regular file")
    if info.st_size == 0:
        return Refused("empty file", retry=True)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        return Refused(f"cannot read: {exc.strerror}")
    if head.startswith(b"GGUF"):
        return Sniffed("gguf")
    if len(head) >= 9 and head[8:9] == b"{":
        return Sniffed("safetensors")
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return Sniffed("pickle")
    return Refused("unknown format")
