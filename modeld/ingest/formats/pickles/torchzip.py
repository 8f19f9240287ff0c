"""PyTorch's zip checkpoints (`torch.save` since 1.6): read like torch reads them.

The layout is `<root>/data.pkl` plus one `<root>/data/<key>` member per
storage; data.pkl names each storage through a persistent id. Any other
member could hide a pickle (picklescan's test data puts one in `data.txt`),
so every member that is not a referenced storage is walked as well.

A member that cannot be read (encrypted, patched, a bad CRC, a central
directory that disagrees with the local header) makes a zip that holds
pickles unverifiable: it is quarantined, never merely refused. TorchScript
archives carry code (`code/*.py`) that runs when the model is used.

Bounds: the central directory is checked (entry count, size, place) before
zipfile reads it; members may not overlap (the overlapping-entry zip bomb);
compressed members with an absurd ratio are refused; a pickle member is read
into memory only up to `MAX_PICKLE_BYTES`.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import Any, BinaryIO

from modeld.ingest.errors import IngestError
from modeld.ingest.formats.pickles.raw import MAX_PICKLE_BYTES, starts_a_pickle
from modeld.ingest.formats.pickles.verdict import STORAGE_DTYPES, details, judge, unverifiable
from modeld.ingest.formats.pickles.walk import StreamFacts, walk_stream
from modeld.ingest.formats.results import Dangerous
from modeld.vocab.reads import Malformed

MAX_TOTAL_PICKLE_BYTES = 256 << 20
MAX_PICKLE_MEMBERS = 16
MAX_ZIP_ENTRIES = 100_000
MAX_CENTRAL_DIRECTORY = 64 << 20
BOMB_RATIO = 100
BOMB_MIN_BYTES = 16 << 20
PROBE_BYTES = 4096
PICKLE_EXTENSIONS = (".pkl", ".pickle")
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


class _Unreadable(IngestError):
    """A member zipfile cannot read; says which and why."""


def looks_like_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def read_torch_zip(handle: BinaryIO, size: int, label: str) -> dict[str, Any] | Dangerous:
    archive, infos = _open(handle, size)
    roots = [i for i in infos if i.filename == "data.pkl" or i.filename.endswith("/data.pkl")]
    named = [i for i in infos if i.filename.endswith(PICKLE_EXTENSIONS) and not i.is_dir()]
    holds_pickles = bool(named)
    if len(named) > MAX_PICKLE_MEMBERS:
        return unverifiable(f"the zip holds {len(named)} pickles (cap {MAX_PICKLE_MEMBERS})")
    if sum(m.file_size for m in named) > MAX_TOTAL_PICKLE_BYTES:
        return unverifiable(f"its pickles unpack to over {MAX_TOTAL_PICKLE_BYTES >> 20} MiB")
    try:
        streams = [(walk_stream(data), data) for data in (_read(archive, m) for m in named)]
        referenced = _referenced_storages(infos, roots, streams, named)
        streams += _hidden_pickles(archive, infos, set(named) | referenced)
    except _Unreadable as exc:
        if holds_pickles:
            return unverifiable(str(exc))
        raise Malformed(str(exc)) from None
    for facts, data in streams:
        if facts.error is None and facts.end < len(data):
            facts.error = f"{len(data) - facts.end} bytes after the STOP opcode"

    torchscript = _torchscript_marker(infos)
    if torchscript is not None:
        return Dangerous(
            f"a TorchScript archive ({torchscript}): it carries code that runs when the model "
            "is used, so it is never imported",
            tuple(sorted({g for facts, _ in streams for g in facts.globals})),
        )
    verdict = judge(streams, label).final
    if verdict is not None:
        return verdict
    if not roots:
        raise Malformed("a zip archive, not a PyTorch checkpoint (no data.pkl)")
    if len(roots) > 1:
        raise Malformed("zip holds more than one data.pkl")
    root_facts = streams[named.index(roots[0])][0]
    _check_storages(infos, _prefix(roots[0]), root_facts)
    return details("zip", [facts for facts, _data in streams])


def _open(handle: BinaryIO, size: int) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    _entries, _cd_size, cd_offset = _central_directory(handle, size)
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
        infos = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # "zip file version 6.4" for a mangled central directory
        ValueError,
        EOFError,
        OSError,
    ) as exc:
        raise Malformed(f"broken zip archive: {exc}") from None
    _check_layout(infos, cd_offset)
    return archive, infos


def _prefix(root: zipfile.ZipInfo) -> str:
    return root.filename[: -len("data.pkl")]


def _referenced_storages(
    infos: list[zipfile.ZipInfo],
    roots: list[zipfile.ZipInfo],
    streams: list[tuple[StreamFacts, bytes]],
    named: list[zipfile.ZipInfo],
) -> set[zipfile.ZipInfo]:
    """The storage members data.pkl names: raw tensor bytes, not pickles."""
    if len(roots) != 1:
        return set()
    prefix, facts = _prefix(roots[0]), streams[named.index(roots[0])][0]
    keys = {f"{prefix}data/{storage.key}" for storage in facts.storages}
    return {info for info in infos if info.filename in keys}


def _hidden_pickles(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], explained: set[zipfile.ZipInfo]
) -> list[tuple[StreamFacts, bytes]]:
    """Pickles in members that neither are named like one nor hold a storage."""
    found: list[tuple[StreamFacts, bytes]] = []
    for info in infos:
        if info in explained or info.is_dir() or info.file_size == 0:
            continue
        if not starts_a_pickle(_read(archive, info, limit=PROBE_BYTES)):
            continue
        if len(found) >= MAX_PICKLE_MEMBERS:
            raise _Unreadable(f"more than {MAX_PICKLE_MEMBERS} pickles hide in the zip")
        data = _read(archive, info)
        found.append((walk_stream(data), data))
    return found


def _torchscript_marker(infos: list[zipfile.ZipInfo]) -> str | None:
    """What shows a zip is a TorchScript archive (torch.jit.save), if anything."""
    for info in infos:
        parts = info.filename.split("/")
        if (len(parts) >= 2 and parts[1] == "code") or parts[-1] == "constants.pkl":
            return f"holds {info.filename}"
    return None


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int | None = None) -> bytes:
    """A member's bytes (all of them, or its first `limit`); _Unreadable if zipfile can't."""
    if limit is None and info.file_size > MAX_PICKLE_BYTES:
        raise _Unreadable(
            f"{info.filename} unpacks to {info.file_size} bytes, over the "
            f"{MAX_PICKLE_BYTES >> 20} MiB scan cap"
        )
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1 if limit is None else limit)
    except _UNREADABLE as exc:
        raise _Unreadable(f"cannot read {info.filename} from the zip: {exc}") from None
    if limit is None and len(data) != info.file_size:
        raise _Unreadable(f"{info.filename} is not the size the zip declares")
    return data


def _central_directory(handle: BinaryIO, size: int) -> tuple[int, int, int]:
    """(entries, directory size, directory offset) from the end records, checked."""
    tail_len = min(size, 22 + 65535)
    handle.seek(size - tail_len)
    tail = handle.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise Malformed("zip archive without its end record (truncated?)", retry=True)
    _sig, _disk, _cd_disk, _n_here, entries, cd_size, cd_offset, _comment = struct.unpack(
        "<4s4H2LH", tail[at : at + 22]
    )
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF) and at >= 20:
        locator = tail[at - 20 : at]
        if locator[:4] == b"PK\x06\x07":
            (record_offset,) = struct.unpack("<Q", locator[8:16])
            if record_offset + 56 > size:
                raise Malformed("zip64 end record points past the end of the file")
            handle.seek(record_offset)
            record = handle.read(56)
            if record[:4] != b"PK\x06\x06":
                raise Malformed("zip64 end record is missing")
            entries, cd_size, cd_offset = struct.unpack("<3Q", record[32:56])
    if entries > MAX_ZIP_ENTRIES:
        raise Malformed(f"zip archive has {entries} entries (cap {MAX_ZIP_ENTRIES})")
    if cd_size > MAX_CENTRAL_DIRECTORY or cd_offset + cd_size > size:
        raise Malformed("zip central directory is larger than the file or the cap")
    return entries, cd_size, cd_offset


def _check_layout(infos: list[zipfile.ZipInfo], cd_offset: int) -> None:
    """No two members may share bytes; compressed members may not inflate absurdly."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for info, following in zip(ordered, [*ordered[1:], None], strict=True):
        data_end = info.header_offset + 30 + len(info.filename.encode()) + info.compress_size
        limit = following.header_offset if following is not None else cd_offset
        if data_end > limit:
            raise Malformed(f"zip members overlap at {info.filename!r} (a zip bomb construction)")
        if (
            info.compress_type != zipfile.ZIP_STORED
            and info.file_size > BOMB_MIN_BYTES
            and info.file_size > BOMB_RATIO * max(info.compress_size, 1)
        ):
            raise Malformed(
                f"{info.filename} would inflate {info.compress_size} bytes to {info.file_size} "
                f"(a zip bomb)"
            )


def _check_storages(infos: list[zipfile.ZipInfo], prefix: str, facts: StreamFacts) -> None:
    """Every storage data.pkl names is there and holds its bytes, as torch requires.

    Members data.pkl does not name are ignored, as torch ignores them; they
    were walked for hidden pickles above.
    """
    by_name = {i.filename: i for i in infos}
    for storage in facts.storages:
        info = by_name.get(f"{prefix}data/{storage.key}")
        if info is None:
            raise Malformed(
                f"data.pkl refers to storage {storage.key!r}, which the archive does not hold"
            )
        itemsize = STORAGE_DTYPES.get(storage.type, ("", 0))[1]
        if info.file_size < storage.numel * itemsize:
            raise Malformed(
                f"storage {storage.key!r} holds {info.file_size} bytes, "
                f"{storage.numel * itemsize} expected"
            )
