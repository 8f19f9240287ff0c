"""BLAKE3 and SHA-256 of a file from one read, using both cores.

SHA-256 is the slower hash (~1.5 GB/s with SHA-NI), so it gets a thread of
its own; the reading thread runs BLAKE3 (~3.6 GB/s) over the same chunks.
Both release the GIL on large buffers, so the pair costs about what SHA-256
alone costs. When copying, writes run on a third thread and start writeback
as they go, so the disk flush overlaps the hashing instead of following it.
The chunks are read into a few reused buffers: a fresh 1 MiB bytes per read
made glibc hand memory back to the kernel and fault it in again, measured at
~0.5 s of system time per GiB, near half of what the two hashes cost.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import blake3

from modeld.vocab.writeback import SYNC_FILE_RANGE, SyncFileRange, Writeback

CHUNK = 1024 * 1024  # measured: 1 MiB copies a little faster than 4-16 MiB, hashes the same
BUFFERS = 8  # chunks in flight between the reader, SHA-256 and the writer
# Files up to this size are read whole and hashed on the calling thread: for a
# few kilobytes, starting the SHA-256 and writer threads costs more than the hashing.
SMALL_FILE = CHUNK

ProgressFn = Callable[[int], None]
"""Called with the number of bytes just processed."""


@dataclass(frozen=True)
class Digests:
    sha256: str
    blake3: str
    size: int


class _Stop:
    pass


_STOP = _Stop()


@dataclass(frozen=True)
class _Chunk:
    buffer: bytearray
    view: memoryview  # the bytes read into `buffer`


class _Pool:
    """Read buffers; each comes back once the last of its users releases it."""

    def __init__(self, count: int, size: int):
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(count):
            self._free.put(bytearray(size))
        self._users: dict[int, int] = {}
        self._lock = threading.Lock()

    def read(self, fd: int, users: int) -> _Chunk | None:
        """The next chunk of `fd`, to be released `users` times; None at its end.
        Blocks while every buffer is in use, which bounds the chunks in flight."""
        buffer = self._free.get()
        count = os.readv(fd, [buffer])
        if count == 0:
            self._free.put(buffer)
            return None
        with self._lock:
            self._users[id(buffer)] = users
        return _Chunk(buffer, memoryview(buffer)[:count])

    def release(self, chunk: _Chunk) -> None:
        with self._lock:
            self._users[id(chunk.buffer)] -= 1
            if self._users[id(chunk.buffer)]:
                return
        self._free.put(chunk.buffer)


class _Consumer:
    """Runs `consume(view)` on its own thread for every chunk, then releases the chunk."""

    def __init__(self, name: str, consume: Callable[[memoryview], None], pool: _Pool):
        self.consume = consume
        self.error: BaseException | None = None
        self._pool = pool
        self._queue: queue.Queue[_Chunk | _Stop] = queue.Queue(maxsize=BUFFERS)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, chunk: _Chunk) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(chunk)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while not isinstance(chunk := self._queue.get(), _Stop):
            try:
                if self.error is None:  # after an error: drain, so the reader never blocks
                    self.consume(chunk.view)
            except BaseException as exc:  # re-raised on the reading thread
                self.error = exc
            finally:
                self._pool.release(chunk)


class _Writer:
    """Writes chunks to `fd`, starting writeback as it goes so the final fsync is short."""

    def __init__(self, fd: int, writeback: Writeback):
        self.fd = fd
        self.written = 0
        self.writeback = writeback

    def __call__(self, chunk: memoryview) -> None:
        view = chunk
        while view:
            view = view[os.write(self.fd, view) :]
        self.written += len(chunk)
        self.writeback.wrote(self.written)


def _advise(fd: int, advice_name: str) -> None:
    advice = getattr(os, advice_name, None)
    if advice is not None and hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):  # advisory only
            os.posix_fadvise(fd, 0, 0, advice)


def _large_for_page_cache(fd: int) -> bool:
    """Evicting pages costs time (~6% of a hash); do it only where caching a file would hurt."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return True
    return os.fstat(fd).st_size > memory // 8


def _pump(src_fd: int, writer: _Writer | None, progress: ProgressFn | None) -> Digests:
    """Read once; SHA-256 (the slow hash) gets a thread to itself, BLAKE3 runs inline
    after the read, and a copy's writes get a third thread."""
    sha = hashlib.sha256()
    blake = blake3.blake3(max_threads=1)
    pool = _Pool(BUFFERS, CHUNK)
    consumers = [_Consumer("sha256", sha.update, pool)]
    if writer is not None:
        consumers.append(_Consumer("writer", writer, pool))
    size = 0
    try:
        while chunk := pool.read(src_fd, users=len(consumers) + 1):
            for consumer in consumers:
                consumer.put(chunk)
            blake.update(chunk.view)
            count = len(chunk.view)
            pool.release(chunk)
            size += count
            if progress is not None:
                progress(count)
    finally:
        for consumer in consumers:
            consumer.close()
    return Digests(sha256=sha.hexdigest(), blake3=blake.hexdigest(), size=size)


def _read_small(fd: int) -> bytes | None:
    """The whole of `fd` when it is a small file, else None (nothing read).
    Reads to the end, so a file that grew since its size was taken shows its real size."""
    if os.fstat(fd).st_size > SMALL_FILE:
        return None
    chunks = []
    while chunk := os.read(fd, SMALL_FILE + 1):
        chunks.append(chunk)
    return b"".join(chunks)


def _digests(data: bytes, progress: ProgressFn | None) -> Digests:
    if progress is not None:
        progress(len(data))
    return Digests(
        sha256=hashlib.sha256(data).hexdigest(),
        blake3=blake3.blake3(data).hexdigest(),
        size=len(data),
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def hash_file(path: Path, progress: ProgressFn | None = None) -> Digests:
    """Both digests of `path`, reading it once (a small file on this thread)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        data = _read_small(fd)
        if data is not None:
            return _digests(data, progress)
        _advise(fd, "POSIX_FADV_SEQUENTIAL")
        return _pump(fd, None, progress)
    finally:
        if _large_for_page_cache(fd):
            _advise(fd, "POSIX_FADV_DONTNEED")
        os.close(fd)


def copy_and_hash(
    src: Path,
    dst: Path,
    progress: ProgressFn | None = None,
    *,
    sync_file_range: SyncFileRange | None = SYNC_FILE_RANGE,
    fsync: bool = True,
) -> Digests:
    """Copy `src` to the new file `dst`, hashing the bytes as they pass; fsync before return.

    `dst` must not exist. On any error `dst` is removed and the error re-raised,
    so nothing partial is left behind. The writes start their own writeback as
    they go (see writeback.py); `sync_file_range=None` is the path of systems
    without it, where the final fsync does all the writing. `fsync=False` is for
    a caller whose own later flush makes the copy durable (ingest's staging:
    one flush per batch, in commit.py), so the file is not flushed twice.
    A small file is read once, hashed and written on this thread.
    """
    src_fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        dst_fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except BaseException:
        os.close(src_fd)
        raise
    try:
        data = _read_small(src_fd)
        if data is not None:
            _write_all(dst_fd, data)
            digests = _digests(data, progress)
        else:
            _advise(src_fd, "POSIX_FADV_SEQUENTIAL")
            writer = _Writer(dst_fd, Writeback(dst_fd, sync_file_range=sync_file_range))
            digests = _pump(src_fd, writer, progress)
        if fsync:
            os.fsync(dst_fd)
    except BaseException:
        os.close(dst_fd)
        dst_fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(dst)
        raise
    finally:
        if dst_fd >= 0:
            os.close(dst_fd)
        if _large_for_page_cache(src_fd):
            _advise(src_fd, "POSIX_FADV_DONTNEED")
        os.close(src_fd)
    return digests
