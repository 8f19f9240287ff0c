"""GGUF: the header-only reader against real files, the gguf package, and broken headers."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import gguf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeld.ingest.formats import Malformed, Refused, Sniffed, sniff
from modeld.ingest.formats.gguf import read_gguf
from tests import modelfiles
from tests.modelfiles import gguf_string


def header(version=3, tensors=0, kvs=0) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, tensors, kvs)


def kv_str(key: str, value: bytes) -> bytes:
    return gguf_string(key) + struct.pack("<I", 8) + gguf_string(value)


def test_reader_agrees_with_the_gguf_package(tmp_path):
    path = modelfiles.write_gguf(
        tmp_path / "m.gguf",
        arch="qwen2",
        name="Qwen2.5 7B",
        file_type="Q8_0",
        extra_kv={
            "general.source.huggingface.repository": "Qwen/Qwen2.5-7B-Instruct",
            "qwen2.context_length": ("u64", 32768),
            "general.tags": ["chat", "text-generation"],
        },
        vocab=500,
    )
    result = sniff(path)
    assert isinstance(result, Sniffed) and result.format == "gguf"
    kv = result.details["kv"]
    reader = gguf.GGUFReader(path)
    for key in (
        "general.architecture",
        "general.name",
        "general.file_type",
        "qwen2.context_length",
    ):
        assert kv[key] == reader.fields[key].contents()
    assert kv["general.source.huggingface.repository"] == "Qwen/Qwen2.5-7B-Instruct"
    assert kv["general.tags"] == ["chat", "text-generation"]
    assert not any(k.startswith("tokenizer.") for k in kv)  # skipped, never decoded
    ours = [(name, dtype, tuple(shape)) for name, dtype, shape in result.details["tensors"]]
    theirs = [(t.name, t.tensor_type.name, tuple(int(d) for d in t.shape)) for t in reader.tensors]
    assert ours == theirs


def test_version_2_and_a_custom_alignment(tmp_path):
    path = modelfiles.write_gguf(tmp_path / "m.gguf", version=2, alignment=64)
    result = sniff(path)
    assert isinstance(result, Sniffed) and result.details["version"] == 2
    assert result.details["kv"]["general.alignment"] == 64


def test_large_vocabulary_is_skipped(tmp_path):
    path = modelfiles.write_gguf(tmp_path / "m.gguf", vocab=150_000)
    result = sniff(path)
    assert isinstance(result, Sniffed)
    assert "tokenizer.ggml.tokens" not in result.details["kv"]


def test_tensor_data_past_the_end_is_truncated(tmp_path):
    path = modelfiles.write_gguf(tmp_path / "m.gguf")
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - 1)
    result = sniff(path)
    assert isinstance(result, Refused) and result.retry
    assert "truncated: GGUF tensor data ends at byte" in result.reason


def test_a_file_without_tensors_is_read(tmp_path):
    """ggml reads a 0-tensor file (llama.cpp's vocab-only files) with no data section."""
    result = sniff(write(tmp_path, header(kvs=1) + kv_str("general.name", b"x") + bytes(40)))
    assert isinstance(result, Sniffed), result
    assert result.details["tensors"] == ()
    assert result.details["kv"] == {"general.name": "x"}


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "x.gguf"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "reason", "retry"),
    [
        (header(kvs=2**60), "claims 1152921504606846976 key/value pairs", False),
        (header(tensors=2**62), "claims 4611686018427387904 tensors", False),
        (header(version=1), "version 1", False),
        (b"GGUF" + struct.pack(">I", 3) + bytes(16), "big-endian", False),
        (header(version=9), "unknown GGUF version 9", False),
        (
            header(kvs=1) + struct.pack("<Q", 2**63) + b"k" * 20,
            "key of 9223372036854775808 bytes is over",
            False,
        ),
        (
            header(kvs=1) + gguf_string("general.name") + struct.pack("<IQ", 8, 100) + b"Llam",
            "cut short",
            True,
        ),
        (
            # over ggml's 1 GiB string cap: refused for good, not waited on
            header(kvs=1) + gguf_string("general.name") + struct.pack("<IQ", 8, 2**62) + b"x" * 16,
            "claims 4611686018427387904 bytes, over ggml's 1 GiB limit",
            False,
        ),
        (
            header(kvs=1) + gguf_string("k") + struct.pack("<I", 99) + bytes(8),
            "unknown value type 99",
            False,
        ),
        (
            header(kvs=1)
            + gguf_string("tokenizer.ggml.tokens")
            + struct.pack("<IIQ", 9, 8, 2**40)
            + bytes(64),
            "claims 1099511627776 items",
            False,
        ),
        (
            header(kvs=1)
            + gguf_string("a")
            + struct.pack("<IIQ", 9, 9, 1)
            + struct.pack("<IQ", 9, 1) * 5
            + bytes(16),
            "nested more than",
            False,
        ),
        (header(kvs=2) + kv_str("a", b"x") + kv_str("a", b"y") + bytes(16), "appears twice", False),
        (
            header(kvs=1) + gguf_string("general.alignment") + struct.pack("<II", 4, 3) + bytes(32),
            "power of two",
            False,
        ),
        (
            header(tensors=1) + gguf_string("t") + struct.pack("<I", 7) + bytes(80),
            "7 dimensions",
            False,
        ),
        (
            header(tensors=1) + gguf_string("t") + struct.pack("<IQIQ", 1, 4, 77, 0),
            "unknown ggml type 77",
            False,
        ),
        (
            header(tensors=1) + gguf_string("t") + struct.pack("<IQIQ", 1, 33, 2, 0),
            "not a whole Q4_0 block",
            False,
        ),
        (
            header(tensors=1) + gguf_string("t") + struct.pack("<IQIQ", 1, 4, 0, 3),
            "not aligned",
            False,
        ),
        (
            header(tensors=1) + gguf_string("t") + struct.pack("<IQIQ", 1, 2**40, 0, 0) + bytes(32),
            "truncated",
            True,
        ),
        (header(kvs=1) + gguf_string(b"\xff\xfe") + bytes(20), "not UTF-8", False),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_broken_headers_are_refused_with_the_reason(tmp_path, data, reason, retry):
    """Every length and count is checked against the file before it is used."""
    result = sniff(write(tmp_path, data))
    assert isinstance(result, Refused), result
    assert reason in result.reason
    assert result.retry is retry


# -- fuzz ----------------------------------------------------------------------------

FUZZ_RUNS: dict[str, int] = {"random": 0, "mutated": 0}


def parse(data: bytes) -> None:
    try:
        details = read_gguf(io.BytesIO(data), len(data))
    except Malformed as exc:
        assert exc.reason
    else:
        assert all(len(dims) <= 4 for _name, _type, dims in details["tensors"])


@pytest.fixture(scope="module")
def valid_gguf(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("gguf") / "v.gguf"
    modelfiles.write_gguf(
        path,
        extra_kv={"general.tags": ["a", "b"], "x.count": ("u64", 3), "x.f": 1.5},
        tensors={"a": ("F32", (4, 2)), "b": ("Q8_0", (32, 2))},
        vocab=3,
    )
    return path.read_bytes()


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_fuzz_random_bytes(data):
    FUZZ_RUNS["random"] += 1
    parse(data)
    parse(b"GGUF" + struct.pack("<I", 3) + data)


@settings(
    max_examples=2500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_fuzz_mutated_valid_file(valid_gguf, data):
    FUZZ_RUNS["mutated"] += 1
    buffer = bytearray(valid_gguf)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(buffer) - 1))
        buffer[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        # overwrite one 8-byte field with an extreme value
        position = data.draw(st.integers(0, len(buffer) - 8))
        buffer[position : position + 8] = struct.pack(
            "<Q", data.draw(st.sampled_from([0, 1, 2**31, 2**62, 2**64 - 1]))
        )
    cut = data.draw(st.integers(0, len(buffer)))
    parse(bytes(buffer[:cut]))
    parse(bytes(buffer))


def test_fuzz_ran(capsys):
    if not all(FUZZ_RUNS.values()):
        pytest.skip("the fuzz tests were not selected in this run")
    with capsys.disabled():
        print(f"\nGGUF fuzz examples: {FUZZ_RUNS} (x2 parser inputs each)")
    # hypothesis may replay a few saved examples on top of max_examples
    assert FUZZ_RUNS["random"] >= 1500 and FUZZ_RUNS["mutated"] >= 2500
