"""GGUF v2/v3: a header-only reader.

Layout (little-endian): ``GGUF``, u32 version, u64 tensor count, u64 KV count,
the typed key/value pairs, the tensor infos (name, dims, ggml type, offset),
padding to the alignment, then the tensor data.

The gguf package's reader parses every value eagerly (seconds on a 150k-entry
vocabulary); this one skips ``tokenizer.*`` values and large arrays without
decoding them. Every count and length is checked against the bytes left in
the file and a cap before it is used, and the tensor data extent is checked
against the file size (a shortfall means truncated: retry later).
"""

from __future__ import annotations

import math
import struct
from typing import Any, BinaryIO

from modeld.ingest.formats import Malformed
from modeld.ingest.formats.cursor import Cursor

MAGIC = b"GGUF"
MAX_TENSORS = 1_000_000
MAX_KV = 100_000
MAX_KEY_BYTES = 65_535
MAX_NAME_BYTES = 4096
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_ARRAY_ITEMS = 16_000_000  # a vocabulary is ~260k; merges ~500k
MAX_NESTING = 3
KEEP_STRING_BYTES = 65_536  # longer values are skipped, not decoded
KEEP_ARRAY_ITEMS = 256
DEFAULT_ALIGNMENT = 32

# value type id → (struct format, size); 8 = string, 9 = array
_SCALARS = {
    0: ("<B", 1),
    1: ("<b", 1),
    2: ("<H", 2),
    3: ("<h", 2),
    4: ("<I", 4),
    5: ("<i", 4),
    6: ("<f", 4),
    7: ("<?", 1),
    10: ("<Q", 8),
    11: ("<q", 8),
    12: ("<d", 8),
}
_STRING, _ARRAY = 8, 9

# ggml type id → (name, elements per block, bytes per block), from ggml.h
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}

Tensor = tuple[str, str, tuple[int, ...]]


def read_gguf(handle: BinaryIO, size: int) -> dict[str, Any]:
    """Parse the header; return ``version``, ``kv`` and ``tensors``."""
    cursor = Cursor(handle, size, "GGUF header")
    if cursor.take(4, "the magic") != MAGIC:
        raise Malformed("not a GGUF file (bad magic)")
    version = cursor.u32("the version")
    if version == 1:
        raise Malformed("GGUF version 1 (2023) is not supported; re-convert the model")
    if version not in (2, 3):
        if struct.pack("<I", version) in (b"\0\0\0\2", b"\0\0\0\3"):
            raise Malformed("big-endian GGUF is not supported")
        raise Malformed(f"unknown GGUF version {version}")
    tensor_count = cursor.u64("the tensor count")
    kv_count = cursor.u64("the key/value count")
    # each KV takes at least 13 bytes (key length, type, 1-byte value), each
    # tensor info at least 24 (name length, dims count, type, offset)
    if kv_count > MAX_KV or kv_count * 13 > cursor.remaining:
        raise Malformed(f"GGUF claims {kv_count} key/value pairs, more than the file can hold")
    if tensor_count > MAX_TENSORS or tensor_count * 24 > cursor.remaining:
        raise Malformed(f"GGUF claims {tensor_count} tensors, more than the file can hold")

    kv: dict[str, Any] = {}
    seen: set[str] = set()
    for _ in range(kv_count):
        key = _string(cursor, MAX_KEY_BYTES, "key")
        if key in seen:
            raise Malformed(f"GGUF key {key!r} appears twice")
        seen.add(key)
        value_type = cursor.u32(f"the type of {key!r}")
        keep = not key.startswith("tokenizer.")
        value = _value(cursor, value_type, key, keep, depth=0)
        if keep and value is not _SKIPPED:
            kv[key] = value

    alignment = kv.get("general.alignment", DEFAULT_ALIGNMENT)
    if type(alignment) is not int or alignment <= 0 or alignment & (alignment - 1):
        raise Malformed(f"GGUF general.alignment {alignment!r} is not a power of two")

    tensors: list[Tensor] = []
    spans: list[tuple[int, int, str]] = []
    names: set[str] = set()
    for _ in range(tensor_count):
        name = _string(cursor, MAX_NAME_BYTES, "tensor name")
        if name in names:
            raise Malformed(f"GGUF tensor {name!r} appears twice")
        names.add(name)
        n_dims = cursor.u32(f"the dims of {name!r}")
        if n_dims > MAX_DIMS:
            raise Malformed(f"GGUF tensor {name!r} has {n_dims} dimensions (max {MAX_DIMS})")
        dims = tuple(cursor.u64(f"a dim of {name!r}") for _ in range(n_dims))
        type_id = cursor.u32(f"the type of {name!r}")
        offset = cursor.u64(f"the offset of {name!r}")
        if type_id not in GGML_TYPES:
            raise Malformed(f"GGUF tensor {name!r} has unknown ggml type {type_id}")
        type_name, block, block_bytes = GGML_TYPES[type_id]
        numel = math.prod(dims)
        if dims and dims[0] % block:
            raise Malformed(
                f"GGUF tensor {name!r}: row of {dims[0]} is not a whole {type_name} block"
            )
        if offset % alignment:
            raise Malformed(f"GGUF tensor {name!r}: offset {offset} is not aligned to {alignment}")
        nbytes = numel // block * block_bytes
        tensors.append((name, type_name, dims))
        spans.append((offset, offset + nbytes, name))

    data_start = cursor.pos + (-cursor.pos % alignment)
    spans.sort()
    end = 0
    for begin, stop, name in spans:
        if begin < end:
            raise Malformed(f"GGUF tensor {name!r} overlaps the tensor before it")
        end = stop
    if data_start + end > size:
        raise Malformed(
            f"truncated: GGUF tensor data ends at byte {data_start + end}, but the file has {size}",
            retry=True,
        )
    if not tensors:
        raise Malformed("GGUF file holds no tensors (a vocabulary-only file?)")
    return {"version": version, "kv": kv, "tensors": tuple(tensors)}


class _Skipped:
    pass


_SKIPPED = _Skipped()


def _string(cursor: Cursor, cap: int, purpose: str) -> str:
    length = cursor.u64(f"the length of {purpose}")
    if length > cap:
        raise Malformed(f"GGUF {purpose} of {length} bytes is over the {cap}-byte cap")
    raw = cursor.take(length, purpose)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(f"GGUF {purpose} is not UTF-8") from None


def _value(cursor: Cursor, value_type: int, key: str, keep: bool, depth: int) -> Any:
    if value_type in _SCALARS:
        fmt, width = _SCALARS[value_type]
        raw = cursor.take(width, f"the value of {key!r}")
        return struct.unpack(fmt, raw)[0] if keep else _SKIPPED
    if value_type == _STRING:
        length = cursor.u64(f"the length of {key!r}")
        if keep and length <= KEEP_STRING_BYTES:
            return cursor.take(length, f"the value of {key!r}").decode("utf-8", "replace")
        cursor.skip(length, f"the value of {key!r}")
        return _SKIPPED
    if value_type == _ARRAY:
        if depth >= MAX_NESTING:
            raise Malformed(f"GGUF array {key!r} is nested more than {MAX_NESTING} deep")
        item_type = cursor.u32(f"the item type of {key!r}")
        count = cursor.u64(f"the length of {key!r}")
        return _array(cursor, item_type, count, key, keep, depth)
    raise Malformed(f"GGUF key {key!r} has unknown value type {value_type}")


def _array(cursor: Cursor, item_type: int, count: int, key: str, keep: bool, depth: int) -> Any:
    if item_type in _SCALARS:
        fmt, width = _SCALARS[item_type]
        cursor.need(count * width, f"the items of {key!r}")
        if keep and count <= KEEP_ARRAY_ITEMS:
            raw = cursor.take(count * width, f"the items of {key!r}")
            return [v[0] for v in struct.iter_unpack(fmt, raw)]
        cursor.skip(count * width, f"the items of {key!r}")
        return _SKIPPED
    if item_type not in (_STRING, _ARRAY):
        raise Malformed(f"GGUF array {key!r} has unknown item type {item_type}")
    # every string or array item takes at least 8 bytes (its length)
    if count > MAX_ARRAY_ITEMS or count * 8 > cursor.remaining:
        raise Malformed(f"GGUF array {key!r} claims {count} items, more than the file can hold")
    keep = keep and count <= KEEP_ARRAY_ITEMS
    if item_type == _STRING and not keep:
        cursor.skip_strings(count, f"the items of {key!r}")
        return _SKIPPED
    items = [_value(cursor, item_type, key, keep, depth + 1) for _ in range(count)]
    return items if keep and all(i is not _SKIPPED for i in items) else _SKIPPED
