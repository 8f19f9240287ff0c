"""safetensors: an 8-byte little-endian header length, a JSON header, the data.

The checks mirror the reference loader (huggingface/safetensors,
`SafeTensors::read_metadata` and `Metadata::validate` in
safetensors/src/tensor.rs), so a file accepted here loads there: the header
fits the 100 MB cap and the file, at any length (the writer pads to a
multiple of 8, the reader does not require it); every entry has a known
dtype, a shape and data_offsets of unsigned 64-bit integers, an element and
bit count that do not overflow 64 bits, and a span equal to its byte size;
the spans tile the data region from 0 with no gap or overlap; and
`8 + header + last offset == file size`, which is what catches a truncated
download.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from modeld.ingest.formats.cursor import Cursor
from modeld.vocab.reads import Malformed

# the reference loader's own cap (MAX_HEADER_SIZE = 100_000_000)
MAX_HEADER_BYTES = 100_000_000
# a very large MoE shard has ~20k tensors; this bounds memory for hostile headers
MAX_TENSORS = 500_000
# shapes and offsets are Rust usize: anything larger fails there to deserialize
USIZE_MAX = (1 << 64) - 1

# bits per element; sub-byte types must fill whole bytes
DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}

Tensor = tuple[str, str, tuple[int, ...]]


def looks_like_safetensors(head: bytes) -> bool:
    """8 bytes of length, then the JSON object's opening brace."""
    return len(head) >= 9 and head[8:9] == b"{"


def read_safetensors(handle: BinaryIO, size: int) -> dict[str, Any]:
    """Parse and validate the header; return ``tensors`` and ``metadata``."""
    cursor = Cursor(handle, size, "safetensors header")
    header_len = cursor.u64("the header length")
    if header_len > MAX_HEADER_BYTES:
        raise Malformed(
            f"safetensors header length {header_len} is over the {MAX_HEADER_BYTES}-byte cap"
        )
    if header_len < 2:
        raise Malformed(f"safetensors header length {header_len} is too small for a JSON object")
    raw = cursor.take(header_len, "the JSON header")
    return parse_header(raw, size - 8 - header_len)


def parse_header(raw: bytes, data_size: int) -> dict[str, Any]:
    """Validate a header against the number of data bytes that follow it."""
    if raw.count(b"data_offsets") > MAX_TENSORS:
        raise Malformed(f"safetensors header lists more than {MAX_TENSORS} tensors")
    try:
        header = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Malformed(f"safetensors header is not UTF-8 (byte {exc.start})") from None
    except RecursionError:
        raise Malformed("safetensors header JSON is nested too deeply") from None
    except ValueError as exc:
        raise Malformed(f"safetensors header is not valid JSON: {_short(exc)}") from None
    if not isinstance(header, dict):
        raise Malformed("safetensors header is not a JSON object")

    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise Malformed("safetensors __metadata__ must map strings to strings")

    tensors: list[Tensor] = []
    spans: list[tuple[int, int, str]] = []
    for name, info in header.items():
        dtype, shape, begin, end = _entry(name, info)
        tensors.append((name, dtype, shape))
        spans.append((begin, end, name))
    if not tensors:
        raise Malformed("safetensors file holds no tensors")

    spans.sort()
    expected = 0
    for begin, end, name in spans:
        if begin != expected:
            problem = "overlaps the previous tensor" if begin < expected else "leaves a gap"
            raise Malformed(
                f"tensor {name!r}: data at offset {begin} {problem} (expected {expected})"
            )
        expected = end
    if expected > data_size:
        raise Malformed(
            f"truncated: tensors need {expected} data bytes but only {max(data_size, 0)} follow "
            f"the header",
            retry=True,
        )
    if expected < data_size:
        raise Malformed(f"{data_size - expected} unexpected bytes after the last tensor")
    return {"tensors": tuple(tensors), "metadata": metadata}


def _entry(name: str, info: Any) -> tuple[str, tuple[int, ...], int, int]:
    if not isinstance(info, dict):
        raise Malformed(f"tensor {_clip(name)!r}: entry is not an object")
    dtype = info.get("dtype")
    shape = info.get("shape")
    offsets = info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise Malformed(f"tensor {_clip(name)!r}: unknown dtype {_clip(str(dtype))!r}")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise Malformed(
            f"tensor {_clip(name)!r}: shape must be a list of non-negative integers below 2^64"
        )
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_count(o) for o in offsets)
        or offsets[1] < offsets[0]
    ):
        raise Malformed(
            f"tensor {_clip(name)!r}: data_offsets must be [begin, end] with begin <= end, "
            f"both non-negative integers below 2^64"
        )
    bits = _element_count(name, shape) * DTYPE_BITS[dtype]
    if bits > USIZE_MAX:
        raise Malformed(f"tensor {_clip(name)!r}: its size in bits overflows 64 bits")
    if bits % 8:
        raise Malformed(f"tensor {_clip(name)!r}: {dtype} data does not fill whole bytes")
    begin, end = offsets
    if end - begin != bits // 8:
        raise Malformed(
            f"tensor {_clip(name)!r}: data_offsets span {end - begin} bytes, "
            f"but {dtype}{shape} needs {bits // 8}"
        )
    return dtype, tuple(shape), begin, end


def _element_count(name: str, shape: list[int]) -> int:
    """The reference's checked product, left to right: [2**40, 2**40, 0] overflows."""
    count = 1
    for dim in shape:
        count *= dim
        if count > USIZE_MAX:
            raise Malformed(f"tensor {_clip(name)!r}: its element count overflows 64 bits")
    return count


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= USIZE_MAX


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _short(exc: Exception) -> str:
    return _clip(str(exc), 120)
