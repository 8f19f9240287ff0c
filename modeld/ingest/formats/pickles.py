"""Pickle-based checkpoints (.ckpt .pt .pth .bin): scanned, never unpickled.

Two containers exist: the PyTorch zip (``<root>/data.pkl`` plus one
``<root>/data/<key>`` member per storage) and raw pickles (including the
legacy torch format: five pickle streams followed by raw storage bytes).

Every pickle stream is scanned twice, without executing anything:
- by our own opcode walk (`pickletools.genops` over bytes already bounded in
  memory), which also collects the strings (tensor names) and storage types
  identification needs, and resolves STACK_GLOBAL through the memo;
- by picklescan, the maintained scanner.
A file is safe only when the union of the imports both found is on
`HARMLESS` and neither scan hit an error. picklescan alone is a blocklist
with a history of bypasses; the allow-list is what decides.

Bounds: the zip's central directory is checked (entry count, size, place)
before zipfile reads it; members may not overlap (the overlapping-entry zip
bomb); compressed members with an absurd ratio are refused; a pickle member
or stream is read into memory only up to `MAX_PICKLE_BYTES`.
"""

from __future__ import annotations

import io
import logging
import pickletools
import re
import struct
import zipfile
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from modeld.ingest.formats import Dangerous, Malformed

log = logging.getLogger(__name__)

MAX_PICKLE_BYTES = 64 << 20
MAX_TOTAL_PICKLE_BYTES = 256 << 20
MAX_PICKLE_MEMBERS = 16
MAX_STREAMS = 16
MAX_ZIP_ENTRIES = 100_000
MAX_CENTRAL_DIRECTORY = 64 << 20
BOMB_RATIO = 100
BOMB_MIN_BYTES = 16 << 20
MAX_NAMES = 200_000
MAX_NAME_CHARS = 512
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch's legacy serialization magic number
PICKLE_EXTENSIONS = (".pkl", ".pickle")

# What torch.load(weights_only=True) needs for state dicts and numpy scalars:
# constructors that rebuild tensors, storages, dtypes and plain containers.
HARMLESS = frozenset(
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch.Size",
        "torch.device",
        "numpy.dtype",
        "numpy.ndarray",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "_codecs.encode",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
    }
    | {
        f"torch.{dtype}"
        for dtype in [
            "float16",
            "half",
            "bfloat16",
            "float32",
            "float",
            "float64",
            "double",
            "int8",
            "uint8",
            "int16",
            "short",
            "int32",
            "int",
            "int64",
            "long",
            "bool",
            "complex64",
            "complex128",
            "float8_e4m3fn",
            "float8_e5m2",
        ]
    }
)
_STORAGE = re.compile(r"torch\.[A-Za-z0-9_]*Storage")

STORAGE_DTYPES = {
    "HalfStorage": ("F16", 2),
    "BFloat16Storage": ("BF16", 2),
    "FloatStorage": ("F32", 4),
    "DoubleStorage": ("F64", 8),
    "Float8_e4m3fnStorage": ("F8_E4M3", 1),
    "Float8_e5m2Storage": ("F8_E5M2", 1),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
    "ShortStorage": ("I16", 2),
    "CharStorage": ("I8", 1),
    "ByteStorage": ("U8", 1),
    "BoolStorage": ("BOOL", 1),
}

_STRING_OPS = frozenset(
    {
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "UNICODE",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
    }
)
_PUT_OPS = frozenset({"MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"})
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_INT_OPS = frozenset({"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "INT", "LONG"})
_UNKNOWN = "<unresolved>"


def is_harmless(name: str) -> bool:
    return name in HARMLESS or bool(_STORAGE.fullmatch(name))


@dataclass
class StreamFacts:
    """What one pickle stream would import and build, found without running it."""

    start: int
    end: int = 0
    ops: int = 0
    globals: set[str] = field(default_factory=set)
    names: dict[str, None] = field(default_factory=dict)  # ordered set
    storages: Counter[str] = field(default_factory=Counter)  # storage type → elements
    persistent: list[tuple[str, str, int]] = field(default_factory=list)  # key, type, numel
    first_int: int | None = None
    error: str | None = None
    exhausted: bool = False  # the data ended inside the stream


def walk_stream(data: bytes, start: int = 0) -> StreamFacts:
    """Walk one stream's opcodes from `start` in `data` (already bounded in memory)."""
    facts = StreamFacts(start=start)
    stream = io.BytesIO(data)
    stream.seek(start)
    memo: dict[int, str | None] = {}  # memo slot → the string stored there, if any
    recent: deque[tuple[str, Any]] = deque(maxlen=32)
    try:
        for opcode, arg, _pos in pickletools.genops(stream):
            name = opcode.name
            facts.ops += 1
            if name in _PUT_OPS:
                index = len(memo) if name == "MEMOIZE" else arg
                memo[index] = _resolve(recent[-1], memo) if recent else None
                continue  # a memo store does not change what is on the stack
            if name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                _add_global(facts, f"{module}.{attr}")
            elif name == "STACK_GLOBAL":
                _add_global(facts, _stack_global(recent, memo))
            elif name in ("EXT1", "EXT2", "EXT4"):
                # the copyreg extension registry can name any callable
                facts.globals.add(f"copyreg.extension[{arg}]")
            elif name in _STRING_OPS and isinstance(arg, str):
                if len(arg) <= MAX_NAME_CHARS and len(facts.names) < MAX_NAMES:
                    facts.names.setdefault(arg, None)
            elif name in _INT_OPS and facts.first_int is None and isinstance(arg, int):
                facts.first_int = arg
            elif name == "BINPERSID":
                _persistent_id(facts, recent, memo)
            recent.append((name, arg))
    except Exception as exc:  # genops raises ValueError, UnicodeDecodeError, ...
        facts.error = str(exc) or type(exc).__name__
        facts.exhausted = stream.tell() >= len(data)
        facts.end = stream.tell()
        return facts
    facts.end = stream.tell()
    return facts


def _add_global(facts: StreamFacts, name: str) -> None:
    facts.globals.add(name)
    storage = name.removeprefix("torch.")
    if storage in STORAGE_DTYPES:
        facts.storages[storage] += 0


def _resolve(op: tuple[str, Any], memo: dict[int, str | None]) -> str | None:
    """The string an op pushes, following memo fetches; None when it is not a literal."""
    name, arg = op
    if name in _GET_OPS:
        return memo.get(arg)
    if name in _STRING_OPS and isinstance(arg, str):
        return arg
    return None


def _stack_global(recent: deque[tuple[str, Any]], memo: dict[int, str | None]) -> str:
    """module.name of a STACK_GLOBAL from the two values pushed before it."""
    if len(recent) < 2:
        return _UNKNOWN
    module, attr = _resolve(recent[-2], memo), _resolve(recent[-1], memo)
    if not isinstance(module, str) or not isinstance(attr, str):
        return _UNKNOWN
    return f"{module}.{attr}"


def _persistent_id(
    facts: StreamFacts, recent: deque[tuple[str, Any]], memo: dict[int, str | None]
) -> None:
    """torch's ('storage', StorageType, key, location, numel[, view]) tuple."""
    items = list(recent)
    if not items or items[-1][0] != "TUPLE":
        return
    values: list[tuple[str, Any]] = []
    for op in reversed(items[:-1]):
        if op[0] == "MARK":
            break
        values.append(op)
    values.reverse()
    if len(values) < 5:
        return
    tag = _resolve(values[0], memo)
    if tag != "storage":
        return
    storage = ""
    if values[1][0] == "GLOBAL":
        storage = str(values[1][1]).partition(" ")[2]
        rest = values[2:]
    elif len(values) >= 6 and values[3][0] == "STACK_GLOBAL":
        storage = str(_resolve(values[2], memo) or "")
        rest = values[4:]
    else:
        return
    if len(rest) < 3:
        return
    key, numel = _resolve(rest[0], memo), rest[2][1]
    if isinstance(key, str) and isinstance(numel, int) and not isinstance(numel, bool):
        facts.persistent.append((key, storage, numel))
        if storage in STORAGE_DTYPES:
            facts.storages[storage] += numel


# -- verdicts -------------------------------------------------------------------


def picklescan_globals(data: bytes, label: str) -> tuple[set[str], set[str], bool]:
    """(all imports, imports picklescan calls dangerous, scan error) for one stream."""
    from picklescan.scanner import SafetyLevel, scan_pickle_bytes

    try:
        result = scan_pickle_bytes(io.BytesIO(data), label, multiple_pickles=False)
    except Exception:  # picklescan raises on some malformed streams: that is a scan error
        log.debug("picklescan failed on %s", label, exc_info=True)
        return set(), set(), True
    found = {f"{g.module}.{g.name}" for g in result.globals}
    dangerous = {
        f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Dangerous
    }
    return found, dangerous, bool(result.scan_err)


def judge(streams: list[tuple[StreamFacts, bytes]], label: str) -> Dangerous | None:
    """None when every stream is fully scanned and imports only harmless names."""
    imports: set[str] = set()
    flagged: set[str] = set()
    errors: list[str] = []
    for facts, data in streams:
        imports |= facts.globals
        if facts.error is not None:
            errors.append(f"stream at byte {facts.start}: {facts.error}")
        found, dangerous, scan_err = picklescan_globals(data, label)
        imports |= found
        flagged |= dangerous
        if scan_err:
            errors.append(f"picklescan could not parse the stream at byte {facts.start}")
    bad = sorted(name for name in imports if not is_harmless(name) or name in flagged)
    if bad:
        runs_code = [name for name in bad if name in flagged or name == _UNKNOWN]
        shown = ", ".join(bad[:8]) + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")
        if runs_code:
            reason = f"pickle imports {shown}: this can run code when loaded"
        else:
            reason = f"pickle imports {shown}, not on the harmless list"
        return Dangerous(reason, tuple(bad))
    if errors:
        return Dangerous(
            f"pickle could not be fully scanned ({errors[0][:160]}); "
            "an unscannable pickle is not trusted",
            (),
        )
    return None


def _details(container: str, streams: list[StreamFacts]) -> dict[str, Any]:
    names: dict[str, None] = {}
    storages: Counter[str] = Counter()
    for facts in streams:
        names.update(facts.names)
        storages.update(facts.storages)
    dtypes: Counter[str] = Counter()
    for storage, numel in storages.items():
        dtypes[STORAGE_DTYPES[storage][0]] += numel or 0
    return {"container": container, "names": tuple(names), "storages": dict(dtypes)}


# -- raw pickles ----------------------------------------------------------------


def looks_like_pickle(head: bytes) -> bool:
    """PROTO 2..5: every pickle written since Python 2.3 by default."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def read_raw_pickle(handle: BinaryIO, size: int, label: str) -> dict[str, Any] | Dangerous:
    """A file that is one or more pickle streams (legacy torch: five, then raw data)."""
    handle.seek(0)
    window = handle.read(min(size, MAX_PICKLE_BYTES))
    whole = len(window) == size
    first = walk_stream(window, 0)
    if first.error is not None and first.ops <= 1 and not first.globals:
        raise Malformed(f"not a pickle: {first.error[:120]}")
    legacy = first.error is None and first.ops <= 4 and first.first_int == LEGACY_MAGIC
    streams = [first]
    while streams[-1].error is None:
        end = streams[-1].end
        if legacy and len(streams) == 5:
            break  # the rest is raw storage bytes
        if end >= len(window):
            break
        if not legacy and not looks_like_pickle(window[end : end + 2]):
            break  # trailing bytes: judged below
        if len(streams) >= MAX_STREAMS:
            raise Malformed(f"more than {MAX_STREAMS} pickle streams in one file")
        streams.append(walk_stream(window, end))

    verdict = judge([(s, window[s.start : s.end]) for s in streams], label)
    last = streams[-1]
    if isinstance(verdict, Dangerous) and verdict.imports:
        return verdict
    if last.error is not None and last.exhausted:
        if not whole:
            raise Malformed(
                f"pickle stream is longer than the {MAX_PICKLE_BYTES >> 20} MiB scan cap"
            )
        raise Malformed("truncated: the pickle ends before its STOP opcode", retry=True)
    if verdict is not None:
        return verdict
    if legacy and len(streams) < 5:
        raise Malformed("legacy torch file with fewer than five pickle streams")
    if not legacy and last.end < size:
        raise Malformed(f"{size - last.end} bytes of unknown data after the pickle")
    return _details("legacy" if legacy else "raw", streams)


# -- torch zip ------------------------------------------------------------------


def looks_like_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


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


def read_torch_zip(handle: BinaryIO, size: int, label: str) -> dict[str, Any] | Dangerous:
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

    members = [i for i in infos if i.filename.endswith(PICKLE_EXTENSIONS) and not i.is_dir()]
    if len(members) > MAX_PICKLE_MEMBERS:
        raise Malformed(f"zip holds {len(members)} pickles (cap {MAX_PICKLE_MEMBERS})")
    total = sum(m.file_size for m in members)
    for member in members:
        if member.file_size > MAX_PICKLE_BYTES:
            raise Malformed(
                f"{member.filename} unpacks to {member.file_size} bytes, over the "
                f"{MAX_PICKLE_BYTES >> 20} MiB cap (a zip bomb?)"
            )
    if total > MAX_TOTAL_PICKLE_BYTES:
        raise Malformed(f"the pickles in this zip unpack to {total} bytes, over the cap")

    streams: list[tuple[StreamFacts, bytes]] = []
    for member in members:
        data = _read_member(archive, member)
        facts = walk_stream(data, 0)
        if facts.error is None and facts.end < len(data):
            facts.error = f"{len(data) - facts.end} bytes after the STOP opcode"
        streams.append((facts, data))
    verdict = judge(streams, label)
    if verdict is not None:
        return verdict

    roots = [m for m in members if m.filename == "data.pkl" or m.filename.endswith("/data.pkl")]
    if not roots:
        raise Malformed("a zip archive, not a PyTorch checkpoint (no data.pkl)")
    if len(roots) > 1:
        raise Malformed("zip holds more than one data.pkl")
    prefix = roots[0].filename[: -len("data.pkl")]
    root_facts = streams[members.index(roots[0])][0]
    _check_storages(infos, prefix, root_facts)
    return _details("zip", [facts for facts, _data in streams])


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


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
        OSError,
    ) as exc:
        raise Malformed(f"cannot read {info.filename} from the zip: {exc}") from None
    if len(data) != info.file_size:
        raise Malformed(f"{info.filename} is not the size the zip declares")
    return data


def _check_storages(infos: list[zipfile.ZipInfo], prefix: str, facts: StreamFacts) -> None:
    """Every storage data.pkl names is there and big enough; nothing else hides in data/."""
    by_name = {i.filename: i for i in infos}
    referenced = set()
    for key, storage, numel in facts.persistent:
        member = f"{prefix}data/{key}"
        referenced.add(member)
        info = by_name.get(member)
        if info is None:
            raise Malformed(f"data.pkl refers to storage {key!r}, which the archive does not hold")
        itemsize = STORAGE_DTYPES.get(storage, ("", 0))[1]
        if info.file_size < numel * itemsize:
            raise Malformed(
                f"storage {key!r} holds {info.file_size} bytes, {numel * itemsize} expected"
            )
    extra = [
        name for name in by_name if name.startswith(f"{prefix}data/") and name not in referenced
    ]
    if extra:
        raise Malformed(f"{len(extra)} entries under data/ that data.pkl never refers to")
