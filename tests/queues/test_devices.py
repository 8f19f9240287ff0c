"""Path → physical device: fake sysfs trees shaped like the kernel's, plus one real call."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modeld.config import DEVICE_KINDS
from modeld.queues.devices import (
    HDD,
    NETWORK,
    SSD,
    UNKNOWN,
    Device,
    DeviceResolver,
    apply_overrides,
    block_node,
    classify_path_device,
    device_for_devnum,
)
from modeld.vocab.mounts import Mount, parse_mountinfo
from tests.vocab.test_mounts import MOUNTINFO


class FakeSysfs:
    """/sys/devices/..., /sys/block/<disk> and /sys/dev/block/MAJ:MIN, as the kernel has them."""

    def __init__(self, root: Path):
        self.root = root
        (root / "dev" / "block").mkdir(parents=True)
        (root / "block").mkdir()

    def disk(
        self, name: str, devnum: str, *, rotational: int | None, bus: str = "pci0/ata1"
    ) -> Path:
        node = self.root / "devices" / bus / "block" / name
        (node / "queue").mkdir(parents=True)
        (node / "slaves").mkdir()
        if rotational is not None:
            (node / "queue" / "rotational").write_text(f"{rotational}\n")
        (self.root / "block" / name).symlink_to(node)
        self._devlink(devnum, node)
        return node

    def partition(self, disk: Path, name: str, devnum: str) -> Path:
        node = disk / name
        node.mkdir()
        (node / "partition").write_text("1\n")
        self._devlink(devnum, node)
        return node

    def virtual(
        self, name: str, devnum: str, *, slaves: list[Path] = (), rotational: int = 0
    ) -> Path:
        node = self.disk(name, devnum, rotational=rotational, bus="virtual")
        for slave in slaves:
            (node / "slaves" / slave.name).symlink_to(slave)
        return node

    def _devlink(self, devnum: str, node: Path) -> None:
        (self.root / "dev" / "block" / devnum).symlink_to(node)


@pytest.fixture
def sysfs(tmp_path: Path) -> FakeSysfs:
    return FakeSysfs(tmp_path / "sys")


def test_nvme_partition_resolves_to_the_whole_disk_and_is_an_ssd(sysfs):
    disk = sysfs.disk("nvme0n1", "259:0", rotational=0, bus="pci0/nvme/nvme0")
    sysfs.partition(disk, "nvme0n1p1", "259:1")
    sysfs.partition(disk, "nvme0n1p2", "259:2")
    assert device_for_devnum(sysfs.root, 259, 1) == Device("nvme0n1", SSD)
    assert device_for_devnum(sysfs.root, 259, 2) == Device("nvme0n1", SSD)
    assert device_for_devnum(sysfs.root, 259, 0) == Device("nvme0n1", SSD)


def test_mmcblk_and_sata_partitions(sysfs):
    mmc = sysfs.disk("mmcblk0", "179:0", rotational=0, bus="platform/mmc0")
    sysfs.partition(mmc, "mmcblk0p1", "179:1")
    sda = sysfs.disk("sda", "8:0", rotational=1)
    sysfs.partition(sda, "sda1", "8:1")
    assert device_for_devnum(sysfs.root, 179, 1) == Device("mmcblk0", SSD)
    assert device_for_devnum(sysfs.root, 8, 1) == Device("sda", HDD)


def test_device_mapper_resolves_to_its_slaves(sysfs):
    nvme = sysfs.disk("nvme0n1", "259:0", rotational=0)
    p3 = sysfs.partition(nvme, "nvme0n1p3", "259:3")
    sysfs.virtual("dm-0", "253:0", slaves=[p3])  # LUKS/LVM on one NVMe partition
    assert device_for_devnum(sysfs.root, 253, 0) == Device("nvme0n1", SSD)


def test_dm_over_md_over_two_disks_is_one_queue_and_the_spinning_member_wins(sysfs):
    sda = sysfs.disk("sda", "8:0", rotational=1)
    sdb = sysfs.disk("sdb", "8:16", rotational=0)
    sda1 = sysfs.partition(sda, "sda1", "8:1")
    sdb1 = sysfs.partition(sdb, "sdb1", "8:17")
    md0 = sysfs.virtual("md0", "9:0", slaves=[sda1, sdb1])
    sysfs.virtual("dm-1", "253:1", slaves=[md0])
    assert device_for_devnum(sysfs.root, 253, 1) == Device("sda+sdb", HDD)


def test_loop_device_resolves_through_its_backing_file(sysfs, tmp_path):
    sdc = sysfs.disk("sdc", "8:32", rotational=1)
    sysfs.partition(sdc, "sdc1", "8:33")
    loop = sysfs.virtual("loop0", "7:0", rotational=0)
    (loop / "loop").mkdir()
    (loop / "loop" / "backing_file").write_text("/srv/images/disk.img\n")

    def stat_dev(path: str) -> int:  # the backing file lives on sdc1 in this fake world
        assert path == "/srv/images/disk.img"
        return os.makedev(8, 33)

    assert device_for_devnum(sysfs.root, 7, 0, stat_dev=stat_dev) == Device("sdc", HDD)


def test_missing_rotational_flag_or_device_is_unknown(sysfs):
    sysfs.disk("vdz", "254:9", rotational=None)
    assert device_for_devnum(sysfs.root, 254, 9) == Device("vdz", UNKNOWN)
    assert device_for_devnum(sysfs.root, 1, 99) is None
    assert block_node(sysfs.root, 1, 99) is None


def test_network_mounts_are_network_devices_one_per_export(sysfs):
    mounts = parse_mountinfo(MOUNTINFO)
    device, mount = classify_path_device(
        os.makedev(0, 46), "/mnt/my share/a.safetensors", mounts, sysfs.root
    )
    assert device == Device("cifs://host/share", NETWORK)
    assert mount.mount_point == "/mnt/my share"
    sshfs, _ = classify_path_device(os.makedev(0, 47), "/home/u/remote/b", mounts, sysfs.root)
    assert sshfs == Device("fuse.sshfs:u@box:/data", NETWORK)


def test_anonymous_device_number_resolves_through_the_mount_source(sysfs):
    sda = sysfs.disk("sda", "8:0", rotational=1)
    sysfs.partition(sda, "sda1", "8:1")
    mounts = parse_mountinfo(MOUNTINFO)

    def stat_rdev(path: str) -> int:  # /dev/sda1 in this fake world
        assert path == "/dev/sda1"
        return os.makedev(8, 1)

    device, mount = classify_path_device(
        os.makedev(0, 48), "/data/models/x", mounts, sysfs.root, stat_rdev=stat_rdev
    )
    assert device == Device("sda", HDD)
    assert mount.fstype == "btrfs"


def test_block_device_on_the_root_mount(sysfs):
    disk = sysfs.disk("nvme0n1", "259:0", rotational=0)
    sysfs.partition(disk, "nvme0n1p2", "259:2")
    device, mount = classify_path_device(
        os.makedev(259, 2), "/home/u/x", parse_mountinfo(MOUNTINFO), sysfs.root
    )
    assert device == Device("nvme0n1", SSD)
    assert mount.mount_point == "/"


def test_unresolvable_is_unknown(sysfs):
    device, _ = classify_path_device(os.makedev(0, 99), "/x", [], sysfs.root)
    assert device == Device("unknown", UNKNOWN)


def test_overrides_by_name_dev_path_mount_source_and_mount_point():
    mount = Mount((8, 1), "/mnt/usb", "ext4", "/dev/sdb1")
    sdb = Device("sdb", HDD)
    assert apply_overrides(sdb, mount, {"sdb": "ssd"}) == Device("sdb", SSD)
    assert apply_overrides(sdb, mount, {"/dev/sdb": "ssd"}) == Device("sdb", SSD)
    assert apply_overrides(sdb, mount, {"/mnt/usb": "ssd"}) == Device("sdb", SSD)
    assert apply_overrides(sdb, mount, {"/dev/sdb1": "network"}) == Device("sdb", NETWORK)
    assert apply_overrides(sdb, mount, {"sda": "ssd"}) == sdb


def test_resolver_on_this_machine_answers_with_a_real_device(tmp_path):
    resolver = DeviceResolver()
    device = resolver.device_of(tmp_path)
    assert device.kind in DEVICE_KINDS
    if Path("/sys/dev/block").is_dir() and os.major(tmp_path.stat().st_dev) != 0:
        # a real block device: its whole disk has a rotational flag in sysfs
        assert (Path("/sys/block") / device.name.split("+")[0] / "queue" / "rotational").exists()
        assert device.kind in (SSD, HDD)
    # a file about to appear resolves through its parent, to the same device
    assert resolver.device_of(tmp_path / "not-yet" / "file.bin") == device


def test_resolver_override_and_cache(tmp_path):
    calls = []
    real = DeviceResolver()
    name = real.device_of(tmp_path).name
    resolver = DeviceResolver({name: "network"})
    original = resolver._lookup

    def counting(st_dev, path):
        calls.append(path)
        return original(st_dev, path)

    resolver._lookup = counting  # count lookups: the cache must spare the second one
    assert resolver.device_of(tmp_path).kind == NETWORK
    assert resolver.device_of(tmp_path / "x").kind == NETWORK
    assert len(calls) == 1
