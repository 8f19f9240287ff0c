"""Listing and stat-ing candidate files: the catch-up scan, the periodic rescan, single probes.

Events only make modeld fast; the scan is the truth. It runs at start-up (to
import what arrived while modeld was stopped), when a watch (re)appears,
after an inotify overflow, and on the scheduler's interval. Everything it
finds goes through the same settle machine as events do.

The scan never follows symlinks (a link in a drop folder may point anywhere),
skips hidden and temporary names (tempnames.py), and notes which files have
an aria2 control file from the same directory listing, without extra stats.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from modeld.watch.events import FileStat
from modeld.watch.tempnames import (
    SIDECAR_SUFFIX,
    is_ignored_component,
    is_ignored_dir,
    is_temporary_name,
    sidecar_of,
)

log = logging.getLogger(__name__)


@dataclass
class ScanStats:
    directories: int = 0
    files: int = 0
    unreadable: int = 0  # directories that could not be listed
    folders: list[str] | None = None  # every folder listed, when the caller asks for them


def probe(path: Path) -> FileStat | None:
    """The settle machine's stat: None unless `path` is a regular file (never followed)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return FileStat(st.st_size, st.st_mtime_ns, st.st_ino, os.path.lexists(sidecar_of(path)))


def scan_tree(
    root: Path,
    *,
    recursive: bool = True,
    skip: Callable[[Path], bool] | None = None,
    stats: ScanStats | None = None,
) -> Iterator[tuple[Path, FileStat]]:
    """Every candidate regular file below `root`, with its stat, depth first.

    `skip(dir)` prunes folders (the library or quarantine inside a watch).
    Unreadable folders are logged and skipped; the scan goes on.
    """
    stats = stats if stats is not None else ScanStats()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except FileNotFoundError:
            continue  # vanished while we walked
        except OSError as exc:
            stats.unreadable += 1
            log.warning("cannot list %s: %s", folder, exc.strerror or exc)
            continue
        stats.directories += 1
        if stats.folders is not None:
            stats.folders.append(str(folder))
        names = {entry.name for entry in entries}
        subfolders = []
        for entry in sorted(entries, key=lambda e: e.name):
            try:
                if entry.is_dir(follow_symlinks=False):
                    if recursive and not is_ignored_dir(entry.name):
                        path = Path(entry.path)
                        if skip is None or not skip(path):
                            subfolders.append(path)
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue  # symlinks, sockets, fifos
                name = entry.name
                if (
                    is_ignored_component(name)
                    or is_temporary_name(name)
                    or name.lower().endswith(SIDECAR_SUFFIX)
                ):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished between the listing and the stat
            stats.files += 1
            sidecar = (name + SIDECAR_SUFFIX) in names
            yield Path(entry.path), FileStat(st.st_size, st.st_mtime_ns, st.st_ino, sidecar)
        stack.extend(reversed(subfolders))
