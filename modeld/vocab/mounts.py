"""The mount table: which mount holds a path, and whether its file system is remote.

Two users with different questions share it: the queues (which device a
file's bytes come from) and the watches (inotify cannot see changes made by
other hosts, so a watch on a network mount polls). The parsing is pure over
the text of `/proc/self/mountinfo`, so tests feed it lines written by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MOUNTINFO = Path("/proc/self/mountinfo")

# File systems whose content can change behind the kernel's back (other hosts,
# a userspace daemon): inotify does not see those changes, and reads cross a
# network. fuseblk (ntfs-3g, exfat-fuse) is a local block device and is not here.
REMOTE_FSTYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "9p",
        "virtiofs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "davfs",
        "sshfs",
        "s3fs",
    }
)

_OCTAL = set("01234567")


@dataclass(frozen=True, slots=True)
class Mount:
    dev: tuple[int, int]  # major, minor as mountinfo reports them
    mount_point: str
    fstype: str
    source: str


def is_remote_fstype(fstype: str) -> bool:
    return fstype in REMOTE_FSTYPES or (fstype.startswith("fuse.") and fstype != "fuse.fuseblk")


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and set(field[i + 1 : i + 4]) <= _OCTAL:
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of /proc/self/mountinfo, in order (a later mount covers an earlier one)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        try:
            separator = fields.index("-", 6)
            major, minor = fields[2].split(":")
            mounts.append(
                Mount(
                    dev=(int(major), int(minor)),
                    mount_point=_unescape(fields[4]),
                    fstype=fields[separator + 1],
                    source=_unescape(fields[separator + 2]),
                )
            )
        except (ValueError, IndexError):
            log.debug("unparsable mountinfo line: %r", line)
    return mounts


def find_mount(path: str, mounts: Iterable[Mount]) -> Mount | None:
    """The mount that holds the absolute, resolved `path` (the deepest, latest one)."""
    best: Mount | None = None
    for mount in mounts:
        point = mount.mount_point.rstrip("/") or "/"
        inside = path == point or path.startswith(point if point == "/" else point + "/")
        if inside and (best is None or len(point) >= len(best.mount_point.rstrip("/") or "/")):
            best = mount
    return best


def read_mountinfo(source: Path = MOUNTINFO) -> str | None:
    """The mount table's text; None where there is none (not Linux)."""
    try:
        return source.read_text()
    except OSError:
        return None
