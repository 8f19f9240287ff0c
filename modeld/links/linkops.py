"""The only code that creates, re-points or removes links on disk.

Safety rules, enforced here and nowhere else:
- a link is created with os.symlink/os.link, which fail if anything exists at
  the path: creating never replaces anything;
- re-pointing replaces only what is still a symlink (checked right before);
- removal unlinks a symlink, or a hardlink that is provably a second name of
  the library file (same inode); a real file or a real folder is never removed,
  and folders are only ever removed with os.rmdir (empty ones).
There is no shutil.rmtree in the links package, by design.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import Literal

from modeld.links.canary import LinkMethod
from modeld.links.paths import link_text
from modeld.vocab.paths import is_within

SYMLINK = "symlink"
HARDLINK = "hardlink"

# What is at a registered link path, compared with what should be there.
OK = "ok"
MISSING = "missing"  # nothing at the path
DANGLING = "dangling"  # our symlink, reaching nothing
WRONG = "wrong"  # our symlink, reaching something else
REPLACED = "replaced"  # a real file or folder now sits where our link was
STALE = "stale"  # a hardlink path holding a different file than the library's
TARGET_GONE = "target_gone"  # the link is fine but the library file is gone

# A registered link's status as the contract names it (LINK "status").
LinkStatus = Literal["ok", "broken", "missing"]

CONTRACT_STATUS: dict[str, LinkStatus] = {
    OK: "ok",
    MISSING: "missing",
    DANGLING: "broken",
    WRONG: "broken",
    REPLACED: "broken",
    STALE: "broken",
    TARGET_GONE: "broken",
}

REASONS = {
    MISSING: "the link is gone",
    DANGLING: "the link reaches nothing",
    WRONG: "the link reaches another file",
    REPLACED: "a real file or folder is now at the link's path",
    STALE: "the file at the link's path is not the library's file any more",
    TARGET_GONE: "the model's file is missing from the library",
}


def observe(path: str, kind: str, target: str) -> str:
    """Compare what is at `path` with a `kind` link to `target` (2-3 stat calls)."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return MISSING
    if kind == SYMLINK:
        if not stat.S_ISLNK(st.st_mode):
            return REPLACED
        try:
            reached = os.stat(path)
        except OSError:
            return DANGLING
    else:
        if not stat.S_ISREG(st.st_mode):
            return REPLACED
        reached = st
    try:
        expected = os.stat(target)
    except OSError:
        return TARGET_GONE
    if reached.st_ino == expected.st_ino and reached.st_dev == expected.st_dev:
        return OK
    return WRONG if kind == SYMLINK else STALE


class RealDirs:
    """realpath() of link folders, cached for one pass (each costs a stat per component)."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def get(self, folder: str) -> str:
        real = self._cache.get(folder)
        if real is None:
            real = self._cache[folder] = os.path.realpath(folder)
        return real


def create(path: str, target: str, method: LinkMethod, real_dirs: RealDirs) -> None:
    """Make the link; raises FileExistsError when anything already holds `path`."""
    if method.kind == HARDLINK:
        os.link(target, path)
        return
    link_dir = real_dirs.get(os.path.dirname(path))
    os.symlink(link_text(target, link_dir, method.relative), path)


def repoint(path: str, target: str, method: LinkMethod, real_dirs: RealDirs) -> None:
    """Atomically swap what is at `path` for a fresh link, if it is still ours to replace.

    Symlinks carry no data, so one can always be replaced. A hardlink path is
    replaced only after the caller proved its bytes are the library's
    (same inode, or same size and BLAKE3): then no unique byte is lost.
    """
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name}.modeld-{os.getpid()}.tmp")
    try:
        create(temp, target, method, real_dirs)
    except FileExistsError:
        if not stat.S_ISLNK(os.lstat(temp).st_mode):
            raise
        os.unlink(temp)  # our own leftover from a crash
        create(temp, target, method, real_dirs)
    try:
        current = os.lstat(path)
        if stat.S_ISDIR(current.st_mode):
            raise IsADirectoryError(path)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def remove_owned(path: str, kind: str, target: str | None) -> bool:
    """Remove our link at `path`; False (and nothing touched) when it is not ours any more."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    if stat.S_ISLNK(st.st_mode):
        os.unlink(path)  # removes the link itself, never what it points to
        return True
    if kind == HARDLINK and stat.S_ISREG(st.st_mode) and target is not None:
        try:
            library_file = os.stat(target)
        except OSError:
            return False  # the library copy is gone: this may be the last one
        if (library_file.st_ino, library_file.st_dev) == (st.st_ino, st.st_dev):
            os.unlink(path)
            return True
    return False


def prune_empty(path: str, group: str | None) -> None:
    """After removing a link inside a folder modeld made, remove that folder if now empty."""
    if not group:
        return
    folder = os.path.dirname(path)
    while is_within(folder, group):
        try:
            os.rmdir(folder)  # only ever succeeds on an empty folder
        except OSError:
            return
        if folder == group:
            return
        folder = os.path.dirname(folder)


def occupant(path: str) -> str | None:
    """'symlink' | 'file' | 'dir' | 'other' at `path`, or None when it is free."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "other"
