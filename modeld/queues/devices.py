"""Which physical device holds a path, and what kind it is (ssd, hdd, network, unknown).

The queue of a job is the device its bytes are read from, because two readers
on one spinning disk are far slower than one (the head seeks between them).

Linux: `st_dev` → `/sys/dev/block/MAJ:MIN` → the whole disk
(`nvme0n1p1` → `nvme0n1`, `mmcblk0p1` → `mmcblk0`, `sda1` → `sda`; device
mapper and md devices → the disks in their `slaves/`; a loop device → the
device of its backing file) → `/sys/block/<disk>/queue/rotational`.
File systems with anonymous device numbers (btrfs, ZFS, NFS...) are looked up
in the mount table (modeld/vocab/mounts.py): a network file system is its own
"network" device (one per export), a `/dev/...` source is resolved as above,
anything else is "unknown". Elsewhere (macOS) every path is "unknown" unless configured.

The parsing functions are pure over a sysfs root and mountinfo text, so tests
build fake trees; `DeviceResolver` is the cached I/O edge.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from modeld.vocab.mounts import (
    MOUNTINFO,
    Mount,
    find_mount,
    is_remote_fstype,
    parse_mountinfo,
    read_mountinfo,
)

log = logging.getLogger(__name__)

SYSFS = Path("/sys")

SSD, HDD, NETWORK, UNKNOWN = "ssd", "hdd", "network", "unknown"

_MAX_DEPTH = 8  # stacked devices (dm on md on partitions, loop files) are never deeper


@dataclass(frozen=True, slots=True)
class Device:
    name: str  # the queue's key: "nvme0n1", "sda", "sda+sdb", "nfs4:nas:/models", "unknown"
    kind: str  # ssd | hdd | network | unknown


UNKNOWN_DEVICE = Device("unknown", UNKNOWN)


def block_node(sysfs: Path, major: int, minor: int) -> Path | None:
    """The sysfs directory of block device MAJ:MIN (resolved), or None."""
    link = sysfs / "dev" / "block" / f"{major}:{minor}"
    try:
        node = link.resolve(strict=True)
    except OSError:
        return None
    return node


def disks_of(
    node: Path,
    *,
    stat_dev: Callable[[str], int] = lambda p: os.stat(p).st_dev,
    sysfs: Path = SYSFS,
    depth: int = 0,
) -> list[Path]:
    """The whole-disk sysfs nodes under a block device node (partition, dm, md, loop)."""
    if depth > _MAX_DEPTH:
        return []
    if (node / "partition").exists():
        node = node.parent  # .../block/sda/sda1 -> .../block/sda
    slaves_dir = node / "slaves"
    slaves = sorted(slaves_dir.iterdir()) if slaves_dir.is_dir() else []
    if slaves:
        disks: list[Path] = []
        for slave in slaves:
            try:
                resolved = slave.resolve(strict=True)
            except OSError:
                continue
            for disk in disks_of(resolved, stat_dev=stat_dev, sysfs=sysfs, depth=depth + 1):
                if disk not in disks:
                    disks.append(disk)
        return disks
    backing = _read(node / "loop" / "backing_file")
    if backing:
        try:
            dev = stat_dev(backing)
        except OSError:
            return [node]
        inner = block_node(sysfs, os.major(dev), os.minor(dev))
        if inner is None:
            return [node]
        return disks_of(inner, stat_dev=stat_dev, sysfs=sysfs, depth=depth + 1)
    return [node]


def kind_of_disks(disks: Iterable[Path]) -> str:
    """hdd if any disk spins (the slowest member sets the pace), ssd if none does."""
    flags = [_read(disk / "queue" / "rotational") for disk in disks]
    if not flags or any(flag not in ("0", "1") for flag in flags):
        return UNKNOWN
    return HDD if "1" in flags else SSD


def device_for_devnum(
    sysfs: Path,
    major: int,
    minor: int,
    *,
    stat_dev: Callable[[str], int] = lambda p: os.stat(p).st_dev,
) -> Device | None:
    node = block_node(sysfs, major, minor)
    if node is None:
        return None
    disks = disks_of(node, stat_dev=stat_dev, sysfs=sysfs)
    if not disks:
        return None
    return Device("+".join(disk.name for disk in disks), kind_of_disks(disks))


def classify_path_device(
    st_dev: int,
    path: str,
    mounts: list[Mount],
    sysfs: Path,
    *,
    stat_rdev: Callable[[str], int] = lambda p: os.stat(p).st_rdev,
    stat_dev: Callable[[str], int] = lambda p: os.stat(p).st_dev,
) -> tuple[Device, Mount | None]:
    """The device of a file whose `st_dev` and resolved path are given (pure but for sysfs)."""
    major, minor = os.major(st_dev), os.minor(st_dev)
    mount = next((m for m in reversed(mounts) if m.dev == (major, minor)), None)
    mount = mount or find_mount(path, mounts)
    if mount is not None and is_remote_fstype(mount.fstype):
        return Device(f"{mount.fstype}:{mount.source}", NETWORK), mount
    if major != 0:
        device = device_for_devnum(sysfs, major, minor, stat_dev=stat_dev)
        if device is not None:
            return device, mount
    if mount is not None and mount.source.startswith("/dev/"):
        # btrfs, ZFS and friends give files anonymous device numbers: use the source
        try:
            rdev = stat_rdev(mount.source)
        except OSError:
            rdev = 0
        if rdev:
            device = device_for_devnum(sysfs, os.major(rdev), os.minor(rdev), stat_dev=stat_dev)
            if device is not None:
                return device, mount
    return UNKNOWN_DEVICE, mount


def apply_overrides(device: Device, mount: Mount | None, overrides: Mapping[str, str]) -> Device:
    """`[queues.devices]` pins a kind by device name, /dev path, mount source or mount point."""
    if not overrides:
        return device
    keys = [device.name, f"/dev/{device.name}"]
    if mount is not None:
        keys += [mount.source, mount.mount_point]
    for key in keys:
        kind = overrides.get(key)
        if kind is not None:
            return Device(device.name, kind)
    return device


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


class DeviceResolver:
    """`device_of(path)` with a short cache per `st_dev` (a burst of files costs one lookup)."""

    def __init__(
        self,
        overrides: Mapping[str, str] | None = None,
        *,
        sysfs: Path = SYSFS,
        mountinfo: Path = MOUNTINFO,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._overrides = dict(overrides or {})
        self._sysfs = sysfs
        self._mountinfo = mountinfo
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[int, tuple[float, Device]] = {}
        self._lock = threading.Lock()

    def device_of(self, path: Path) -> Device:
        st_dev = _existing_dev(path)
        if st_dev is None:
            return apply_overrides(UNKNOWN_DEVICE, None, self._overrides)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(st_dev)
            if cached is not None and cached[0] > now:
                return cached[1]
        device = self._lookup(st_dev, path)
        with self._lock:
            self._cache[st_dev] = (now + self._ttl, device)
        return device

    def _lookup(self, st_dev: int, path: Path) -> Device:
        # no mount table (not Linux): every device is unknown unless configured
        mounts = parse_mountinfo(read_mountinfo(self._mountinfo) or "")
        resolved = os.path.realpath(path)
        device, mount = classify_path_device(st_dev, resolved, mounts, self._sysfs)
        device = apply_overrides(device, mount, self._overrides)
        log.debug("device of %s: %s (%s)", path, device.name, device.kind)
        return device


def _existing_dev(path: Path) -> int | None:
    """st_dev of the path, or of its nearest existing parent (a file about to appear)."""
    for candidate in (path, *path.parents):
        try:
            return os.stat(candidate).st_dev
        except OSError:
            continue
    return None
