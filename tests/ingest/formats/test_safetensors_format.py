"""safetensors: real files written by tests/modelfiles.py, and broken ones."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeld.ingest.formats import Malformed, Refused, Sniffed, sniff
from modeld.ingest.formats.safetensors import MAX_HEADER_BYTES, read_safetensors
from tests import modelfiles


def raw_file(
    path: Path, header: bytes | dict, data: bytes = b"", length: int | None = None
) -> Path:
    body = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(body) if length is None else length) + body + data)
    return path


def test_valid_file_gives_tensors_and_metadata(tmp_path):
    path = modelfiles.write_safetensors(
        tmp_path / "m.safetensors",
        {"a.weight": ("F16", (4, 8)), "b.bias": ("BF16", (3,)), "c": ("F8_E4M3", (2, 2))},
        metadata={"ss_network_module": "networks.lora"},
    )
    result = sniff(path)
    assert isinstance(result, Sniffed) and result.format == "safetensors"
    assert result.details["tensors"] == (
        ("a.weight", "F16", (4, 8)),
        ("b.bias", "BF16", (3,)),
        ("c", "F8_E4M3", (2, 2)),
    )
    assert result.details["metadata"] == {"ss_network_module": "networks.lora"}


def test_truncated_data_is_refused_for_retry(tmp_path):
    path = modelfiles.write_safetensors(tmp_path / "m.safetensors", {"w": ("F32", (64, 64))})
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - 100)
    result = sniff(path)
    assert isinstance(result, Refused) and result.retry
    assert "truncated" in result.reason


def test_truncated_header_is_refused_for_retry(tmp_path):
    path = modelfiles.write_safetensors(tmp_path / "m.safetensors", {"w": ("F32", (4,))})
    with open(path, "r+b") as handle:
        handle.truncate(20)
    result = sniff(path)
    assert isinstance(result, Refused) and result.retry
    assert "cut short" in result.reason


def test_trailing_bytes_are_refused(tmp_path):
    path = modelfiles.write_safetensors(tmp_path / "m.safetensors", {"w": ("F32", (4,))})
    with open(path, "ab") as handle:
        handle.write(b"junk")
    result = sniff(path)
    assert isinstance(result, Refused) and not result.retry
    assert "4 unexpected bytes after the last tensor" in result.reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"w": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}, "unknown dtype"),
        ({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, "shape"),
        ({"w": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, "shape"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, "needs 8"),
        ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, "begin <= end"),
        ({"w": "nope"}, "not an object"),
        (
            {"__metadata__": {"a": 1}, "w": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}},
            "__metadata__",
        ),
        ({"__metadata__": {}}, "no tensors"),
        (
            {
                "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]},
            },
            "overlaps",
        ),
        ({"a": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}, "gap"),
    ],
)
def test_invalid_entries_are_refused_with_the_reason(tmp_path, header, reason):
    result = sniff(raw_file(tmp_path / "m.safetensors", header, b"\0" * 4))
    assert isinstance(result, Refused), result
    assert reason in result.reason


def test_header_length_of_2_63_is_refused_without_reading(tmp_path):
    result = sniff(raw_file(tmp_path / "m.safetensors", b"{}", length=2**63))
    assert isinstance(result, Refused) and not result.retry
    assert f"{2**63}" in result.reason and "cap" in result.reason


def test_header_longer_than_file_is_refused_for_retry(tmp_path):
    result = sniff(raw_file(tmp_path / "m.safetensors", b'{"a":1}', length=MAX_HEADER_BYTES - 1))
    assert isinstance(result, Refused) and result.retry


def test_invalid_json_and_deep_nesting_are_refused(tmp_path):
    assert "not valid JSON" in sniff(raw_file(tmp_path / "a.safetensors", b"{oops")).reason
    deep = b"{" + b'"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    result = sniff(raw_file(tmp_path / "b.safetensors", deep))
    assert isinstance(result, Refused) and "nested too deeply" in result.reason
    assert "not UTF-8" in sniff(raw_file(tmp_path / "c.safetensors", b'{"\xff":1}')).reason


def test_a_header_listing_too_many_tensors_is_refused_before_parsing(tmp_path):
    entry = b'"x":{"data_offsets":0},'
    result = sniff(raw_file(tmp_path / "m.safetensors", b"{" + entry * 500_001 + b'"y":1}'))
    assert isinstance(result, Refused) and "more than 500000 tensors" in result.reason


# -- fuzz ------------------------------------------------------------------------

FUZZ_RUNS: dict[str, int] = {"random": 0, "mutated": 0}
VALID_HEADER, VALID_DATA = modelfiles.safetensors_header(
    {"a.weight": ("F16", (4, 4)), "b": ("F32", (3,)), "c": ("BF16", (2, 2, 2))}, {"k": "v"}
)
VALID = struct.pack("<Q", len(VALID_HEADER)) + VALID_HEADER + b"\0" * VALID_DATA


def parse(data: bytes) -> None:
    """The parser either returns details or raises Malformed: nothing else, ever."""
    try:
        details = read_safetensors(io.BytesIO(data), len(data))
    except Malformed as exc:
        assert exc.reason
    else:
        assert details["tensors"]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_fuzz_random_bytes(data):
    FUZZ_RUNS["random"] += 1
    parse(data)
    parse(struct.pack("<Q", len(data)) + data)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8
    ),
    st.integers(0, len(VALID)),
    st.one_of(st.none(), st.integers(0, 2**64 - 1)),
)
def test_fuzz_mutated_valid_file(flips, cut, length):
    FUZZ_RUNS["mutated"] += 1
    data = bytearray(VALID)
    for position, value in flips:
        data[position] = value
    if length is not None:
        data[:8] = struct.pack("<Q", length)
    parse(bytes(data[:cut]))
    parse(bytes(data))


def test_fuzz_ran(capsys):
    """Runs after the fuzz tests in this module (pytest keeps file order)."""
    if not all(FUZZ_RUNS.values()):
        pytest.skip("the fuzz tests were not selected in this run")
    with capsys.disabled():
        # two parser inputs per example
        print(f"\nsafetensors fuzz examples: {FUZZ_RUNS} (x2 parser inputs each)")
    # hypothesis may replay a few saved examples on top of max_examples
    assert FUZZ_RUNS["random"] >= 1500 and FUZZ_RUNS["mutated"] >= 2500
