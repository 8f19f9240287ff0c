import ctypes
import errno
import hashlib
import os

import blake3
import pytest

from modeld.vocab import writeback
from modeld.vocab.hashing import BUFFERS, CHUNK, SMALL_FILE, copy_and_hash, hash_file
from modeld.vocab.writeback import LAG, SYNC_FILE_RANGE, SYNC_FILE_RANGE_WAIT_AFTER


@pytest.mark.parametrize("size", [0, 1, 4095, CHUNK, CHUNK * 3 + 17])
def test_one_read_gives_both_digests(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    seen = []
    digests = hash_file(path, seen.append)
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.blake3 == blake3.blake3(data).hexdigest()
    assert digests.size == size == sum(seen)


def test_copy_and_hash_writes_an_identical_flushed_copy(tmp_path):
    data = os.urandom(CHUNK * 2 + 5)
    source, target = tmp_path / "src", tmp_path / "dst"
    source.write_bytes(data)
    digests = copy_and_hash(source, target)
    assert target.read_bytes() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert source.read_bytes() == data


def test_copy_never_overwrites_an_existing_file(tmp_path):
    source, target = tmp_path / "src", tmp_path / "dst"
    source.write_bytes(b"new")
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        copy_and_hash(source, target)
    assert target.read_bytes() == b"precious"


def test_a_failed_copy_leaves_no_partial_file(tmp_path):
    source, target = tmp_path / "src", tmp_path / "dst"
    source.write_bytes(b"x" * 100)

    def fail_midway(count: int) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        copy_and_hash(source, target, fail_midway)
    assert not target.exists()
    assert source.read_bytes() == b"x" * 100


def test_symlinks_are_not_followed(tmp_path):
    real = tmp_path / "real"
    real.write_bytes(b"data")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(OSError):
        hash_file(link)


# The fallback runs where libc has no sync_file_range (macOS); forcing it here through
# copy_and_hash's own parameter tests that path on Linux too, with the same real files.
WRITEBACK = {"writeback": SYNC_FILE_RANGE, "fallback": None}
SMALL_WINDOW = 2 * CHUNK  # so a few MiB cross windows and waits (the real one is 32 MiB)


@pytest.mark.parametrize("path", WRITEBACK, ids=list(WRITEBACK))
@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, SMALL_WINDOW, SMALL_WINDOW * (LAG + 2) + CHUNK + 17],
)
def test_a_copy_is_byte_identical_with_both_digests(tmp_path, monkeypatch, size, path):
    monkeypatch.setattr(writeback, "WINDOW", SMALL_WINDOW)
    data = os.urandom(size)
    source, target = tmp_path / "src", tmp_path / "dst"
    source.write_bytes(data)
    seen = []
    digests = copy_and_hash(source, target, seen.append, sync_file_range=WRITEBACK[path])
    assert target.read_bytes() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.blake3 == blake3.blake3(data).hexdigest()
    assert digests.size == size == sum(seen)


def test_a_write_error_during_writeback_fails_the_copy_and_leaves_nothing(tmp_path, monkeypatch):
    # A real EIO needs a failing disk; this stand-in answers a wait as the kernel would. The
    # copy must fail: the wait has consumed the error, so the final fsync would succeed.
    waits = []

    def failing_wait(fd: int, offset: int, nbytes: int, flags: int) -> int:
        if not flags & SYNC_FILE_RANGE_WAIT_AFTER:
            return 0
        waits.append(offset)
        ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(writeback, "WINDOW", CHUNK)
    monkeypatch.setattr(writeback, "LAG", 1)
    source, target = tmp_path / "src", tmp_path / "dst"
    # more chunks than read buffers: a writer that failed must still hand its buffers back
    source.write_bytes(os.urandom((BUFFERS + 4) * CHUNK + 1))
    with pytest.raises(OSError) as raised:
        copy_and_hash(source, target, sync_file_range=failing_wait)
    assert raised.value.errno == errno.EIO
    assert waits == [0]
    assert not target.exists()


@pytest.mark.parametrize("size", [0, 4095, SMALL_FILE, SMALL_FILE + 1, CHUNK * 3 + 17])
def test_a_copy_left_to_the_callers_flush_is_whole_and_not_fsynced(tmp_path, monkeypatch, size):
    # staging's copies: the batch's one flush (ingest/commit.py) makes them durable
    synced = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    data = os.urandom(size)
    source, target = tmp_path / "src", tmp_path / "dst"
    source.write_bytes(data)
    seen = []
    digests = copy_and_hash(source, target, seen.append, fsync=False)
    assert target.read_bytes() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.blake3 == blake3.blake3(data).hexdigest()
    assert digests.size == size == sum(seen)
    assert synced == []
    copy_and_hash(source, tmp_path / "synced")
    assert len(synced) == 1
