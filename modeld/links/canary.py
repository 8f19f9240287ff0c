"""Which kind of link works in an app folder: found by trying, never by the fs name.

exFAT/FAT refuse symlinks, some sandboxes refuse both kinds or links across
folders, ntfs-3g shows up as "fuseblk": the name of a file system says
little. So modeld writes a tiny file in the library, links it into the app
folder both ways, reads back through each link, and cleans up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from modeld.links.errors import LinkUnsupported

log = logging.getLogger(__name__)

PAYLOAD = b"modeld link canary\n"


@dataclass(frozen=True)
class LinkSupport:
    symlink: bool
    hardlink: bool
    detail: str = ""


@dataclass(frozen=True)
class LinkMethod:
    """How links into one folder are made."""

    kind: str  # symlink | hardlink
    relative: bool  # symlinks only: same file system as the library


def probe(folder: str, library_dir: str) -> LinkSupport:
    """Link a tiny file in `library_dir` into `folder` both ways and read back through each.

    The file lives in the library (its internal folder), so the test covers
    what real links need: reaching the library from the app folder, across
    devices and sandbox rules alike.
    """
    tag = f".modeld-canary-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    source = os.path.join(library_dir, tag)
    soft, hard = os.path.join(folder, tag + ".symlink"), os.path.join(folder, tag + ".hardlink")
    notes: list[str] = []
    try:
        with open(source, "xb") as handle:
            handle.write(PAYLOAD)
    except OSError as exc:
        return LinkSupport(False, False, f"cannot write in {library_dir}: {exc.strerror or exc}")
    try:
        symlink_ok = _try(lambda: os.symlink(source, soft), soft, notes)
        hardlink_ok = _try(lambda: os.link(source, hard), hard, notes)
    finally:
        for path in (soft, hard, source):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    return LinkSupport(symlink_ok, hardlink_ok, "; ".join(notes))


def _try(make: Callable[[], None], path: str, notes: list[str]) -> bool:
    try:
        make()
        with open(path, "rb") as handle:
            if handle.read(len(PAYLOAD) + 1) == PAYLOAD:
                return True
        notes.append(f"{os.path.basename(path)}: read back different bytes")
    except OSError as exc:
        notes.append(f"{os.path.basename(path)}: {exc.strerror or exc}")
    return False


def choose_method(mode: str, support: LinkSupport, same_device: bool) -> LinkMethod:
    """The link kind for `mode` (auto | symlink | hardlink), or LinkUnsupported saying why."""
    if mode in ("auto", "symlink") and support.symlink:
        return LinkMethod("symlink", relative=same_device)
    if mode in ("auto", "hardlink") and support.hardlink and same_device:
        return LinkMethod("hardlink", relative=False)
    reasons = []
    if mode != "hardlink" and not support.symlink:
        reasons.append("symlinks are not supported there")
    if mode != "symlink":
        if not same_device:
            reasons.append("hardlinks cannot reach a library on another file system")
        elif not support.hardlink:
            reasons.append("hardlinks are not supported there")
    detail = f" ({support.detail})" if support.detail else ""
    raise LinkUnsupported(f"link = {mode!r}: {'; '.join(reasons)}{detail}")
