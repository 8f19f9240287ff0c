"""Writes a crash cannot tear: a temp file in the same folder, fsync, rename, fsync the folder.

A reader sees the old content or the new, never half; used for metadata.json,
the import journal, quarantine records and the service files modeld installs.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_json(path: Path, document: Any) -> None:
    atomic_write_bytes(path, encode_json(document))


def encode_json(document: Any) -> bytes:
    """`document` as the UTF-8 JSON these files hold (also for writes that need no fsync)."""
    try:
        data = json.dumps(document, indent=2, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        # a path whose name is not UTF-8 (lone surrogates, from os.fsdecode):
        # as '\udcff' escapes it reads back from json.loads exactly as it was
        data = json.dumps(document, indent=2, ensure_ascii=True).encode()
    return data + b"\n"


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new entry in `folder` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
