"""The mount table: hand-written mountinfo lines as the kernel escapes them, plus the real one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from modeld.vocab.mounts import find_mount, is_remote_fstype, parse_mountinfo, read_mountinfo

MOUNTINFO = r"""22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 259:2 / / rw,relatime - ext4 /dev/nvme0n1p2 rw
40 27 0:45 / /mnt/nas rw,relatime - nfs4 nas:/export/models rw,vers=4.2
41 27 0:46 / /mnt/my\040share rw,relatime shared:7 - cifs //host/share rw
42 27 0:47 / /home/u/remote rw - fuse.sshfs u@box:/data rw
43 27 0:48 / /data rw - btrfs /dev/sda1 rw,subvol=/data
44 27 8:17 / /mnt/usb rw - fuseblk /dev/sdb1 rw
45 27 0:49 / /mnt/nas rw,relatime - tmpfs tmpfs rw
garbage line
"""


def test_parse_mountinfo_unescapes_and_skips_garbage():
    mounts = parse_mountinfo(MOUNTINFO)
    assert [m.mount_point for m in mounts][:4] == ["/proc", "/", "/mnt/nas", "/mnt/my share"]
    share = mounts[3]
    assert (share.fstype, share.source, share.dev) == ("cifs", "//host/share", (0, 46))
    assert len(mounts) == 8


def test_find_mount_picks_the_deepest_and_the_latest_over_mount():
    mounts = parse_mountinfo(MOUNTINFO)
    assert find_mount("/home/u/remote/x.gguf", mounts).fstype == "fuse.sshfs"
    assert find_mount("/home/u/remotely", mounts).mount_point == "/"
    assert find_mount("/mnt/nas/a", mounts).fstype == "tmpfs"  # mounted over the NFS export


@pytest.mark.parametrize(
    ("fstype", "remote"),
    [
        ("nfs", True),
        ("nfs4", True),
        ("cifs", True),
        ("smb3", True),
        ("fuse.sshfs", True),
        ("fuse.rclone", True),
        ("9p", True),
        ("ext4", False),
        ("btrfs", False),
        ("fuseblk", False),
        ("tmpfs", False),
    ],
)
def test_remote_fstypes(fstype, remote):
    assert is_remote_fstype(fstype) is remote


def test_read_mountinfo_is_none_without_a_mount_table(tmp_path):
    assert read_mountinfo(tmp_path / "no-such-file") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mountinfo is Linux's")
def test_the_real_mount_table_holds_the_root():
    text = read_mountinfo()
    assert text is not None
    root = find_mount(str(Path("/").resolve()), parse_mountinfo(text))
    assert root is not None and root.mount_point == "/"
