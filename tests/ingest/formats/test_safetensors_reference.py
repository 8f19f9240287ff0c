"""safetensors against the reference reader's rules (safetensors/src/tensor.rs).

The corpus holds the safetensors repository's own conformance samples, whose
headers are not padded to a multiple of 8: the reader accepts any length, so
must we. Shapes and offsets are Rust usize values checked with checked_mul.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeld.ingest.formats import Malformed, Refused, Sniffed, sniff
from modeld.ingest.formats.safetensors import DTYPE_BITS, read_safetensors
from tests.realcorpus import verified_files


def raw_file(path: Path, header: dict | bytes, data_size: int = 0) -> Path:
    body = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(body)) + body + bytes(data_size))
    return path


def test_the_reference_conformance_samples_are_read():
    files = verified_files("safetensors/huggingface-safetensors-samples/")
    assert len(files) >= 10
    unpadded = 0
    for path, item in files:
        assert item.expect == "import", item.path
        header_len = struct.unpack("<Q", path.read_bytes()[:8])[0]
        unpadded += header_len % 8 != 0
        result = sniff(path)
        assert isinstance(result, Sniffed) and result.format == "safetensors", (item.path, result)
        assert result.details["metadata"] == {"test": "a"}, item.path
        assert result.details["tensors"], item.path
        assert all(shape == (6,) for _n, _d, shape in result.details["tensors"]), item.path
    assert unpadded == len(files)  # every sample covers the unpadded case


def test_a_header_whose_length_is_not_a_multiple_of_8_is_read(tmp_path):
    header = b'{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}'
    assert len(header) % 8
    result = sniff(raw_file(tmp_path / "m.safetensors", header, 3))
    assert isinstance(result, Sniffed), result
    assert result.details["tensors"] == (("a", "U8", (3,)),)


def test_tensors_are_laid_out_in_offset_order_not_name_order(tmp_path):
    header = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
        "z": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
    }
    result = sniff(raw_file(tmp_path / "m.safetensors", header, 12))
    assert isinstance(result, Sniffed), result


def test_a_shape_of_many_dims_is_read_as_the_reference_reads_it(tmp_path):
    """The reference has no cap on the number of dimensions."""
    shape = [1] * 40 + [2]
    header = {"w": {"dtype": "F16", "shape": shape, "data_offsets": [0, 4]}}
    result = sniff(raw_file(tmp_path / "m.safetensors", header, 4))
    assert isinstance(result, Sniffed), result
    assert result.details["tensors"] == (("w", "F16", tuple(shape)),)


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        # checked_mul left to right: overflows before the 0 is reached
        (
            {"dtype": "U8", "shape": [2**40, 2**40, 0], "data_offsets": [0, 0]},
            "element count overflows 64 bits",
        ),
        (
            {"dtype": "F64", "shape": [2**62], "data_offsets": [0, 2**63]},
            "size in bits overflows 64 bits",
        ),
        (
            {"dtype": "U8", "shape": [2**64], "data_offsets": [0, 2**64]},
            "shape must be a list of non-negative integers below 2^64",
        ),
        (
            {"dtype": "U8", "shape": [1], "data_offsets": [2**64, 2**64 + 1]},
            "both non-negative integers below 2^64",
        ),
        (
            {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]},
            "shape must be a list of non-negative integers",
        ),
    ],
)
def test_values_the_reference_cannot_hold_are_refused_for_good(tmp_path, entry, reason):
    result = sniff(raw_file(tmp_path / "m.safetensors", {"w": entry}, 8))
    assert isinstance(result, Refused), result
    assert reason in result.reason
    assert not result.retry


# -- fuzz: extreme shapes and offsets -----------------------------------------------------

EXTREME = [0, 1, 2, 3, 6, 2**31, 2**32, 2**40, 2**62, 2**63, 2**64 - 1, 2**64]
FUZZ_RUNS = {"headers": 0}


@st.composite
def extreme_headers(draw) -> bytes:
    header = {}
    for index in range(draw(st.integers(1, 3))):
        shape = draw(st.lists(st.sampled_from(EXTREME), max_size=6))
        begin = draw(st.sampled_from(EXTREME[:5]))
        end = draw(st.sampled_from(EXTREME))
        dtype = draw(st.sampled_from(sorted(DTYPE_BITS)))
        header[f"t{index}"] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}
    body = json.dumps(header).encode()
    return struct.pack("<Q", len(body)) + body + bytes(draw(st.sampled_from([0, 6, 64])))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extreme_headers())
def test_fuzz_extreme_shapes_end_in_a_reason_or_a_consistent_file(data):
    FUZZ_RUNS["headers"] += 1
    try:
        details = read_safetensors(io.BytesIO(data), len(data))
    except Malformed as exc:
        assert exc.reason
        # a retry is only for data that may still arrive: never for an overflow
        assert not (exc.retry and "overflow" in exc.reason)
        return
    for _name, dtype, shape in details["tensors"]:
        count = 1
        for dim in shape:
            count *= dim
            assert count < 2**64
        assert count * DTYPE_BITS[dtype] < 2**64


def test_fuzz_ran():
    if not FUZZ_RUNS["headers"]:
        pytest.skip("the fuzz test was not selected in this run")
    assert FUZZ_RUNS["headers"] >= 800
