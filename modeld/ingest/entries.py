"""The entries a plan may take, checked without following what must not be followed.

Directory symlinks are never followed. A file symlink counts only when it
resolves to a regular file inside the limit (the drop folder, or the folder
being imported); FIFOs, devices and sockets are never opened. Each check
returns the reason an entry cannot be part of a unit, or None.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from modeld.vocab.paths import is_within
from modeld.vocab.reads import file_kind


def file_problem(path: Path, limit: Path | None) -> str | None:
    try:
        info = path.lstat()
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return symlink_problem(path, limit)
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file ({file_kind(info.st_mode)})"
    return None


def symlink_problem(path: Path, limit: Path | None) -> str | None:
    target = os.path.realpath(path)
    if limit is not None and not is_within(target, os.path.realpath(limit)):
        return f"symlink to {target}, outside {limit}; not followed"
    try:
        info = os.stat(path)
    except OSError:
        return f"dangling symlink (to {target})"
    if stat.S_ISDIR(info.st_mode):
        return "symlink to a folder; folder links are not followed"
    if not stat.S_ISREG(info.st_mode):
        return f"symlink to something that is not a regular file ({file_kind(info.st_mode)})"
    return None


def walk_all(folder: Path) -> Iterator[Path]:
    """Every non-hidden entry under `folder` that is not a directory, without following links."""
    for current, dirs, files in os.walk(folder, followlinks=False):
        base = Path(current)
        real_dirs = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            if (base / name).is_symlink():
                yield base / name  # reported as a folder link by the caller
            else:
                real_dirs.append(name)
        dirs[:] = real_dirs
        for name in sorted(files):
            if not name.startswith("."):
                yield base / name
