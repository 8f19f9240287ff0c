"""ONNX: a protobuf ModelProto, checked by walking its top-level fields.

No onnx package is needed: the walk reads each field's tag, skips its value
by the length the wire format gives (checked against the file size), keeps
the small descriptive fields, and requires what every ONNX model has: an
``ir_version`` first, exactly one ``graph``, and a walk that ends exactly at
the end of the file. Large models keep their weights in external data files
(``*.onnx_data``), which travel as companions.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from modeld.ingest.formats.cursor import Cursor
from modeld.vocab.reads import Malformed

MAX_FIELDS = 100_000
MAX_IR_VERSION = 64
KEEP_STRING_BYTES = 4096
MAX_SMALL_MESSAGE = 1 << 16

# ModelProto field number → (name, wire type); 0 = varint, 2 = length-delimited
MODEL_FIELDS = {
    1: ("ir_version", 0),
    2: ("producer_name", 2),
    3: ("producer_version", 2),
    4: ("domain", 2),
    5: ("model_version", 0),
    6: ("doc_string", 2),
    7: ("graph", 2),
    8: ("opset_import", 2),
    14: ("metadata_props", 2),
    20: ("training_info", 2),
    25: ("functions", 2),
    26: ("configuration", 2),
}


def looks_like_onnx(head: bytes) -> bool:
    """Field 1 (ir_version) as a varint is how every ONNX writer starts."""
    return len(head) >= 2 and head[0] == 0x08 and 1 <= head[1] <= MAX_IR_VERSION


def read_onnx(handle: BinaryIO, size: int) -> dict[str, Any]:
    cursor = Cursor(handle, size, "ONNX model")
    details: dict[str, Any] = {"opsets": {}}
    graphs = 0
    fields = 0
    while cursor.remaining:
        fields += 1
        if fields > MAX_FIELDS:
            raise Malformed(f"ONNX model has more than {MAX_FIELDS} top-level fields")
        tag = _varint(cursor)
        number, wire = tag >> 3, tag & 7
        if fields == 1 and number != 1:
            raise Malformed("not an ONNX model: it does not start with ir_version")
        expected = MODEL_FIELDS.get(number)
        if expected is None:
            raise Malformed(f"not an ONNX model: unknown ModelProto field {number}")
        name, expected_wire = expected
        if wire != expected_wire:
            raise Malformed(f"not an ONNX model: field {name} has wire type {wire}")
        if wire == 0:
            value = _varint(cursor)
            if name == "ir_version" and not 1 <= value <= MAX_IR_VERSION:
                raise Malformed(f"not an ONNX model: ir_version {value}")
            details[name] = value
            continue
        length = _varint(cursor)
        cursor.need(length, f"field {name}")
        if name == "graph":
            graphs += 1
            details["graph_bytes"] = length
            cursor.skip(length, "the graph")
        elif (
            name in ("producer_name", "producer_version", "domain") and length <= KEEP_STRING_BYTES
        ):
            details[name] = cursor.take(length, name).decode("utf-8", "replace")
        elif name == "opset_import" and length <= MAX_SMALL_MESSAGE:
            domain, version = _opset(cursor.take(length, name))
            details["opsets"][domain] = version
        else:
            cursor.skip(length, f"field {name}")
    if "ir_version" not in details:
        raise Malformed("not an ONNX model: no ir_version")
    if graphs != 1:
        raise Malformed(f"not an ONNX model: {graphs} graphs")
    return details


def _varint(cursor: Cursor) -> int:
    value = 0
    for shift in range(0, 70, 7):
        byte = cursor.u8("a varint")
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
    raise Malformed("ONNX varint longer than 10 bytes")


def _opset(raw: bytes) -> tuple[str, int]:
    """OperatorSetIdProto: domain (1, string), version (2, int64)."""
    domain, version = "", 0
    pos = 0
    while pos < len(raw):
        tag, pos = _raw_varint(raw, pos)
        if tag == (1 << 3 | 2):
            length, pos = _raw_varint(raw, pos)
            domain = raw[pos : pos + length].decode("utf-8", "replace")
            pos += length
        elif tag == (2 << 3):
            version, pos = _raw_varint(raw, pos)
        else:
            raise Malformed("ONNX opset_import has an unexpected field")
    return domain, version


def _raw_varint(raw: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(raw):
            raise Malformed("ONNX opset_import is cut short")
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    raise Malformed("ONNX varint longer than 10 bytes")
