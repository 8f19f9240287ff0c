"""Hostile GGUF headers: refused fast, in little memory, with the rule they break.

The cases come from this year's advisories against llama.cpp's gguf.cpp and
gguf-py (n_dims over GGML_MAX_DIMS, element counts past INT64_MAX, bad or
huge general.alignment, overlapping tensor data, 2^63 lengths); a structured
fuzz then combines such extreme fields at random.
"""

from __future__ import annotations

import io
import math
import struct
import tracemalloc

import gguf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeld.ingest.formats import Malformed, Refused, sniff
from modeld.ingest.formats.gguf import GGML_TYPES, MAX_ALIGNMENT, read_gguf
from tests import modelfiles
from tests.modelfiles import gguf_kv, gguf_string, gguf_tensor_info, raw_gguf

# parsing a hostile header may allocate about what the file holds, never what it claims
PEAK_BYTES = 1 << 20
F32 = 0


class CountingReader(io.BytesIO):
    """Counts the bytes the parser asks for: bounded reads mean bounded work,
    without a timed assertion that a slow machine could fail."""

    requested = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.requested += len(self.getbuffer()) if size is None or size < 0 else size
        return super().read(size)


def parse_bounded(data: bytes) -> tuple[dict | Malformed, int, int]:
    """Parse in memory: (details or the refusal, bytes requested, peak bytes allocated)."""
    handle = CountingReader(data)
    tracemalloc.start()
    try:
        outcome: dict | Malformed = read_gguf(handle, len(data))
    except Malformed as exc:
        outcome = exc
    finally:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return outcome, handle.requested, peak


def test_each_advisory_header_is_refused_quickly_in_little_memory(tmp_path):
    entries = modelfiles.build_hostile_gguf(tmp_path)
    assert len(entries) >= 15
    for entry in entries:
        result = sniff(entry.path)
        assert isinstance(result, Refused), (entry.key, result)
        assert entry.reason in result.reason, (entry.key, result.reason)
        assert not result.retry, entry.key  # no download ever completes these
        data = entry.path.read_bytes()
        outcome, requested, peak = parse_bounded(data)
        assert isinstance(outcome, Malformed), entry.key
        # never asks for what a length field claims, only for what the file holds
        assert requested <= len(data) + 4096, (entry.key, requested)
        assert peak < PEAK_BYTES, (entry.key, peak)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            raw_gguf(
                tensors=[gguf_tensor_info("a", (8,), F32), gguf_tensor_info("b", (8,), F32, 64)],
                tail=bytes(256),
            ),
            "'b' at offset 64 leaves a gap after the tensors before it (expected 32)",
        ),
        (
            # out of file order: ggml wants tensor i right after tensor i-1
            raw_gguf(
                tensors=[gguf_tensor_info("a", (8,), F32, 32), gguf_tensor_info("b", (8,), F32)],
                tail=bytes(256),
            ),
            "'a' at offset 32 leaves a gap",
        ),
        (
            raw_gguf(
                tensors=[gguf_tensor_info("a", (8,), F32), gguf_tensor_info("a", (8,), F32, 32)],
                tail=bytes(256),
            ),
            "tensor 'a' appears twice",
        ),
        (raw_gguf([gguf_kv("", "x")], tail=bytes(64)), "empty key"),
        (
            # no dims: ggml's ne is (1, 1, 1, 1), and 1 is no whole Q4_0 block
            raw_gguf(tensors=[gguf_tensor_info("t", (), 2)], tail=bytes(64)),
            "row of 1 is not a whole Q4_0 block",
        ),
        (raw_gguf(version=0, tail=bytes(64)), "unknown GGUF version 0"),
        (
            # exactly ggml's bound: INT64_MAX / ne[1] <= ne[0] already refuses
            raw_gguf(tensors=[gguf_tensor_info("t", (2**62, 2))], tail=bytes(64)),
            "more elements than int64 can count",
        ),
        (
            raw_gguf([gguf_kv("general.alignment", 2 * MAX_ALIGNMENT, "u32")], tail=bytes(64)),
            "alignment 2097152 is over the 1 MiB limit",
        ),
        (
            raw_gguf([gguf_kv("general.alignment", 32, "i32")], tail=bytes(64)),
            "general.alignment has value type 5, not u32",
        ),
        (
            raw_gguf([gguf_string("general.tags") + struct.pack("<IIQ", 9, 8, 2**64 - 1)]),
            "claims 18446744073709551615 items, more than ggml's limit",
        ),
    ],
)
def test_layout_and_count_rules_are_ggml_s(data, reason):
    outcome, _requested, _peak = parse_bounded(data)
    assert isinstance(outcome, Malformed), outcome
    assert reason in outcome.reason
    assert not outcome.retry


def test_the_largest_alignment_allowed_is_read(tmp_path):
    path = modelfiles.write_gguf(tmp_path / "m.gguf", alignment=MAX_ALIGNMENT)
    outcome, _requested, _peak = parse_bounded(path.read_bytes())
    assert isinstance(outcome, dict), outcome
    assert outcome["kv"]["general.alignment"] == MAX_ALIGNMENT


def test_an_empty_tensor_is_read(tmp_path):
    """ggml skips its element checks for a tensor with a 0 dimension."""
    path = modelfiles.write_gguf(tmp_path / "m.gguf", tensors={"e": ("F32", (0, 2**62))})
    outcome, _requested, _peak = parse_bounded(path.read_bytes())
    assert isinstance(outcome, dict), outcome
    assert outcome["tensors"] == (("e", "F32", (0, 2**62)),)


# -- structured fuzz over extreme fields -----------------------------------------------

EXTREME = [0, 1, 2, 31, 32, 33, 64, 2**20, 2**30, 2**30 + 1, 2**31, 2**32, 2**62, 2**63, 2**64 - 1]
FUZZ_RUNS = {"headers": 0, "accepted": 0}
# the types gguf-py maps onto a numpy dtype; the others it reshapes by their last dim
NUMPY_TYPES = {"F16", "F32", "F64", "I8", "I16", "I32", "I64"}


def _block(type_id: int) -> tuple[int, int]:
    _name, block, block_bytes = GGML_TYPES.get(type_id, ("?", 1, 1))
    return block, block_bytes


@st.composite
def hostile_headers(draw) -> bytes:
    kvs = []
    alignment = 32
    if draw(st.booleans()):
        alignment = draw(st.sampled_from([0, 1, 3, 16, 32, 48, 64, 2**20, 2**21, 2**31]))
        kind = draw(st.sampled_from(["u32", "u32", "u64", "i32"]))
        value = min(alignment, 2**31 - 1) if kind == "i32" else alignment
        kvs.append(gguf_kv("general.alignment", value, kind))
    if draw(st.booleans()):
        length = draw(st.sampled_from(EXTREME))
        body = b"x" * draw(st.integers(0, 40))
        kvs.append(gguf_string("general.name") + struct.pack("<IQ", 8, length) + body)
    if draw(st.booleans()):
        key = draw(st.sampled_from(["general.tags", "tokenizer.ggml.tokens"]))
        item_type = draw(st.sampled_from([0, 4, 8, 9, 10, 13]))
        count = draw(st.sampled_from(EXTREME))
        items = gguf_string("a") * draw(st.integers(0, 4))
        kvs.append(gguf_string(key) + struct.pack("<IIQ", 9, item_type, count) + items)
    tensors = []
    packed = 0  # where the next tensor must start, for draws that follow the rules
    for index in range(draw(st.integers(0, 3))):
        n_dims = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 2**32 - 1]))
        dims = draw(st.lists(st.sampled_from(EXTREME[:9]), min_size=min(n_dims, 5), max_size=5))
        dims = dims[: min(n_dims, 5)]
        type_id = draw(st.sampled_from([0, 1, 2, 4, 8, 12, 28, 30, 39, 41, 42, 2**31]))
        offset = draw(st.sampled_from([packed, packed, 0, 32, 2**63, 2**64 - 1])) % 2**64
        tensors.append(gguf_tensor_info(f"t{index}", dims, type_id, offset, n_dims=n_dims))
        block, block_bytes = _block(type_id)
        nbytes = math.prod(dims) // block * block_bytes
        packed = offset + nbytes + (-(offset + nbytes) % max(alignment, 1))
    tail = bytes(draw(st.sampled_from([0, 31, 4096])))
    return raw_gguf(kvs, tensors, tail)


def _numpy_cannot_shape(dims: tuple[int, ...]) -> bool:
    """numpy multiplies a shape's dims before it notices a 0; ggml stops at 0."""
    return 0 in dims and math.prod(d for d in dims if d) >= 2**63


@settings(
    max_examples=1500,
    deadline=None,  # work is bounded by the bytes requested, not by a clock
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(hostile_headers())
def test_fuzz_extreme_fields_end_in_a_reason_or_a_file_gguf_py_reads(tmp_path, data):
    FUZZ_RUNS["headers"] += 1
    outcome, requested, peak = parse_bounded(data)
    assert requested <= len(data) + 4096
    assert peak < PEAK_BYTES
    if isinstance(outcome, Malformed):
        assert outcome.reason
        return
    FUZZ_RUNS["accepted"] += 1
    for _name, _type, dims in outcome["tensors"]:
        assert len(dims) <= 4 and all(d < 2**63 for d in dims)
    if any(not dims and kind not in NUMPY_TYPES for _name, kind, dims in outcome["tensors"]):
        return  # gguf-py fails on 0-dim tensors of ggml-only types (ggml reads them)
    if any(_numpy_cannot_shape(dims) for _name, _kind, dims in outcome["tensors"]):
        return  # an empty tensor whose other dims overflow: ggml counts 0 elements, numpy refuses
    path = tmp_path / "f.gguf"
    path.write_bytes(data)
    reader = gguf.GGUFReader(path)
    theirs = [(t.name, t.tensor_type.name, tuple(int(d) for d in t.shape)) for t in reader.tensors]
    assert list(outcome["tensors"]) == theirs


def test_fuzz_ran():
    if not FUZZ_RUNS["headers"]:
        pytest.skip("the fuzz test was not selected in this run")
    assert FUZZ_RUNS["headers"] >= 1500
    # some draws follow every rule (30 to 60 of 1,500 in random runs): the accepting
    # path and the comparison with gguf-py are exercised, not only the refusals
    assert FUZZ_RUNS["accepted"] >= 20, FUZZ_RUNS
