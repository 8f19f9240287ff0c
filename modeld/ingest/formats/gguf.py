"""GGUF v2/v3: a header-only reader that refuses what llama.cpp's loader refuses.

Layout (little-endian): ``GGUF``, u32 version, u64 tensor count, u64 KV count,
the typed key/value pairs, the tensor infos (name, dims, ggml type, offset),
then, when there is at least one tensor, padding to the alignment and the
tensor data. A vocabulary-only file (llama.cpp's ggml-vocab-*.gguf) has no
tensors and so no padded data section: it ends right after its key/values.

The rules are those of the reference reader, ggml's `gguf_init_from_reader`
(ggml/src/gguf.cpp), through which llama.cpp, whisper.cpp and
stable-diffusion.cpp load every GGUF; each check below names what it mirrors.
Where gguf-py's GGUFReader reads more than ggml (arrays of arrays, tensor
names of 64 bytes or more, which builds of ggml with a larger GGML_MAX_NAME
load), this reader does too, within its own caps.

The gguf package's reader parses every value eagerly (seconds on a 150k-entry
vocabulary); this one skips ``tokenizer.*`` values and large arrays without
decoding them. Every count and length is checked against the bytes left in
the file and a cap before it is used, and the tensor data extent is checked
against the file size (a shortfall means truncated: retry later).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from modeld.ingest.formats.cursor import Cursor
from modeld.vocab.reads import Malformed

MAGIC = b"GGUF"
MAX_TENSORS = 1_000_000
MAX_KV = 100_000
MAX_KEY_BYTES = 65_535
MAX_NAME_BYTES = 4096
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_STRING_BYTES = 1 << 30  # GGUF_MAX_STRING_LENGTH
MAX_ARRAY_LENGTH = 1 << 30  # GGUF_MAX_ARRAY_ELEMENTS
MAX_ARRAY_ITEMS = 16_000_000  # strings or arrays in one array: a vocabulary is ~260k
MAX_NESTING = 3
# ggml checks only "non-zero power of two"; 1 MiB is the bound its pending
# hardening (llama.cpp #24997, ggml #1516) adds against GGML_PAD overflow
MAX_ALIGNMENT = 1 << 20
KEEP_STRING_BYTES = 65_536  # longer values are skipped, not decoded
KEEP_ARRAY_ITEMS = 256
DEFAULT_ALIGNMENT = 32
ALIGNMENT_KEY = "general.alignment"
INT64_MAX = (1 << 63) - 1  # ggml counts elements in int64_t
SIZE_MAX = (1 << 64) - 1  # and bytes in size_t

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
_U32, _STRING, _ARRAY = 4, 8, 9

# ggml type id → (name, elements per block, bytes per block), from ggml.h;
# the ids ggml removed (4, 5, 31-33, 36-38) have no size there and are refused
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


@dataclass(frozen=True)
class TensorInfo:
    name: str
    type_name: str
    dims: tuple[int, ...]
    offset: int  # from the start of the data section
    nbytes: int


def read_gguf(handle: BinaryIO, size: int) -> dict[str, Any]:
    """Parse the header; return ``version``, ``kv`` and ``tensors``."""
    cursor = Cursor(handle, size, "GGUF header")
    if cursor.take(4, "the magic") != MAGIC:
        raise Malformed("not a GGUF file (bad magic)")
    version = _version(cursor.u32("the version"))
    tensor_count = cursor.u64("the tensor count")
    kv_count = cursor.u64("the key/value count")
    # each KV takes at least 13 bytes (key length, type, 1-byte value), each
    # tensor info at least 24 (name length, dims count, type, offset)
    if kv_count > MAX_KV or kv_count * 13 > cursor.remaining:
        raise Malformed(f"GGUF claims {kv_count} key/value pairs, more than the file can hold")
    if tensor_count > MAX_TENSORS or tensor_count * 24 > cursor.remaining:
        raise Malformed(f"GGUF claims {tensor_count} tensors, more than the file can hold")

    kv = _read_kv(cursor, kv_count)
    alignment = kv.get(ALIGNMENT_KEY, DEFAULT_ALIGNMENT)
    if alignment == 0 or alignment & (alignment - 1):
        raise Malformed(f"GGUF general.alignment {alignment} is not a power of two")
    if alignment > MAX_ALIGNMENT:
        raise Malformed(f"GGUF general.alignment {alignment} is over the 1 MiB limit")

    infos: list[TensorInfo] = []
    names: set[str] = set()
    for _ in range(tensor_count):
        info = _tensor_info(cursor, alignment)
        if info.name in names:
            raise Malformed(f"GGUF tensor {info.name!r} appears twice")
        names.add(info.name)
        infos.append(info)
    _check_layout(infos, alignment, cursor.pos, size)
    tensors = tuple((t.name, t.type_name, t.dims) for t in infos)
    return {"version": version, "kv": kv, "tensors": tensors}


def _version(version: int) -> int:
    # ggml reads the version natively: a big-endian file's 3 reads as 0x03000000
    if version and not version & 0xFFFF:
        raise Malformed("big-endian GGUF is not supported")
    if version == 1:
        raise Malformed("GGUF version 1 (2023) is not supported; re-convert the model")
    if version not in (2, 3):
        raise Malformed(f"unknown GGUF version {version}")
    return version


def _read_kv(cursor: Cursor, kv_count: int) -> dict[str, Any]:
    kv: dict[str, Any] = {}
    seen: set[str] = set()
    for _ in range(kv_count):
        key = _string(cursor, MAX_KEY_BYTES, "key")
        if not key:
            raise Malformed("GGUF has an empty key")
        if key in seen:
            raise Malformed(f"GGUF key {key!r} appears twice")
        seen.add(key)
        value_type = cursor.u32(f"the type of {key!r}")
        # ggml and gguf-py both refuse an alignment of any other type
        if key == ALIGNMENT_KEY and value_type != _U32:
            raise Malformed(f"GGUF general.alignment has value type {value_type}, not u32")
        keep = not key.startswith("tokenizer.")
        value = _value(cursor, value_type, key, keep, depth=0)
        if keep and value is not _SKIPPED:
            kv[key] = value
    return kv


def _tensor_info(cursor: Cursor, alignment: int) -> TensorInfo:
    name = _string(cursor, MAX_NAME_BYTES, "tensor name")
    n_dims = cursor.u32(f"the dims of {name!r}")
    if n_dims > MAX_DIMS:
        raise Malformed(f"GGUF tensor {name!r} has {n_dims} dimensions (max {MAX_DIMS})")
    dims = tuple(cursor.u64(f"a dim of {name!r}") for _ in range(n_dims))
    type_id = cursor.u32(f"the type of {name!r}")
    offset = cursor.u64(f"the offset of {name!r}")
    if type_id not in GGML_TYPES:
        raise Malformed(f"GGUF tensor {name!r} has unknown ggml type {type_id}")
    type_name, block, block_bytes = GGML_TYPES[type_id]
    numel = _element_count(name, dims)
    row = dims[0] if dims else 1  # ggml pads missing dims with 1
    if row % block:
        raise Malformed(f"GGUF tensor {name!r}: row of {row} is not a whole {type_name} block")
    if numel // block > SIZE_MAX // block_bytes:
        raise Malformed(f"GGUF tensor {name!r}: its size in bytes overflows 64 bits")
    if offset % alignment:
        raise Malformed(f"GGUF tensor {name!r}: offset {offset} is not aligned to {alignment}")
    return TensorInfo(name, type_name, dims, offset, numel // block * block_bytes)


def _element_count(name: str, dims: tuple[int, ...]) -> int:
    """ggml's count: each dim an int64 >= 0, the product below INT64_MAX."""
    for index, dim in enumerate(dims):
        if dim > INT64_MAX:
            raise Malformed(f"GGUF tensor {name!r}: dimension {index} ({dim}) is negative as int64")
    if 0 in dims:
        return 0
    padded = dims + (1,) * (MAX_DIMS - len(dims))
    count = padded[0]
    # the same comparisons as ggml, so the same shapes pass
    for dim in padded[1:]:
        if INT64_MAX // dim <= count:
            raise Malformed(
                f"GGUF tensor {name!r}: shape {list(dims)} has more elements than int64 can count"
            )
        count *= dim
    return count


def _check_layout(infos: list[TensorInfo], alignment: int, header_end: int, size: int) -> None:
    """ggml: tensor i starts where tensor i-1's data, padded to the alignment, ends.

    So ranges never overlap and leave no gaps, in file order. The data
    section is padded to the alignment only when there are tensors.
    """
    if not infos:
        return
    expected = 0
    for info in infos:
        if info.offset < expected:
            raise Malformed(
                f"GGUF tensor {info.name!r} at offset {info.offset} overlaps the tensors "
                f"before it (their data runs to {expected})"
            )
        if info.offset > expected:
            raise Malformed(
                f"GGUF tensor {info.name!r} at offset {info.offset} leaves a gap after the "
                f"tensors before it (expected {expected})"
            )
        padded = info.nbytes + (-info.nbytes % alignment)
        if expected + padded > SIZE_MAX:
            raise Malformed(f"GGUF tensor {info.name!r}: the data section overflows 64 bits")
        expected += padded
    data_start = header_end + (-header_end % alignment)
    # llama.cpp's loader needs each tensor's bytes, not the last one's padding
    data_end = data_start + infos[-1].offset + infos[-1].nbytes
    if data_end > size:
        raise Malformed(
            f"truncated: GGUF tensor data ends at byte {data_end}, but the file has {size}",
            retry=True,
        )


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
        if length > MAX_STRING_BYTES:
            raise Malformed(
                f"GGUF string in {key!r} claims {length} bytes, over ggml's 1 GiB limit"
            )
        if keep and length <= KEEP_STRING_BYTES:
            return cursor.take(length, f"the value of {key!r}").decode("utf-8", "replace")
        cursor.skip(length, f"the value of {key!r}")
        return _SKIPPED
    if value_type == _ARRAY:
        if depth >= MAX_NESTING:
            raise Malformed(f"GGUF array {key!r} is nested more than {MAX_NESTING} deep")
        item_type = cursor.u32(f"the item type of {key!r}")
        count = cursor.u64(f"the length of {key!r}")
        if count > MAX_ARRAY_LENGTH:
            raise Malformed(
                f"GGUF array {key!r} claims {count} items, more than ggml's limit of 2^30"
            )
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
        cursor.skip_strings(count, f"the items of {key!r}", MAX_STRING_BYTES)
        return _SKIPPED
    items = [_value(cursor, item_type, key, keep, depth + 1) for _ in range(count)]
    return items if keep and all(i is not _SKIPPED for i in items) else _SKIPPED
