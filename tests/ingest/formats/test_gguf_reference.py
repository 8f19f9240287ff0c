"""GGUF against the reference: real llama.cpp files, gguf-py's writer and reader.

What llama.cpp ships and gguf-py writes must be read, and read the same as
gguf-py's GGUFReader reads it; anything this reader accepts, GGUFReader must
be able to read too (a differential fuzz over mutated GGUFWriter files).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeld.ingest.formats import Malformed, Refused, Sniffed, sniff
from modeld.ingest.formats.gguf import read_gguf
from tests.realcorpus import verified_files

Q8_0 = gguf.GGMLQuantizationType.Q8_0
# gguf-py decodes every vocabulary entry: ~3 s for a 32k vocabulary, ~30 s for
# qwen2's 150k, so the larger files are checked by this reader alone
GGUF_PY_SIZE_LIMIT = 2_000_000


def reader_tensors(reader: gguf.GGUFReader) -> list:
    return [(t.name, t.tensor_type.name, tuple(int(d) for d in t.shape)) for t in reader.tensors]


def reader_kv(reader: gguf.GGUFReader) -> dict:
    """gguf-py's reading of the key/values we keep (tokenizer.* is skipped)."""
    return {
        name: field.contents()
        for name, field in reader.fields.items()
        if not name.startswith(("GGUF.", "tokenizer."))
    }


def assert_same_as_gguf_py(path: Path) -> Sniffed:
    result = sniff(path)
    assert isinstance(result, Sniffed) and result.format == "gguf", result
    reader = gguf.GGUFReader(path)
    kv, tensors = reader_kv(reader), reader_tensors(reader)
    assert list(result.details["tensors"]) == tensors
    # every key/value we keep reads as gguf-py reads it (large arrays are left out)
    for key, value in result.details["kv"].items():
        assert value == kv[key], key
    left_out = set(kv) - set(result.details["kv"])
    assert all(isinstance(kv[k], (list, str)) and len(kv[k]) > 256 for k in left_out)
    return result


# -- the real corpus ---------------------------------------------------------------


def test_llama_cpp_vocab_only_files_are_read_as_llama_cpp_reads_them():
    """llama.cpp's tokenizer test files: 0 tensors, so no padded data section."""
    files = verified_files("gguf/")
    assert len(files) >= 4
    for path, item in files:
        assert path.stat().st_size == item.size, item.path  # the file the manifest means
        assert item.expect == "import", item.path
        if item.size < GGUF_PY_SIZE_LIMIT:
            result = assert_same_as_gguf_py(path)
        else:
            result = sniff(path)
            assert isinstance(result, Sniffed), (item.path, result)
        assert result.details["tensors"] == ()
        assert result.details["version"] == 3
        assert result.details["kv"]["general.architecture"], item.path
        assert not any(key.startswith("tokenizer.") for key in result.details["kv"])


def test_a_vocab_only_file_cut_inside_its_key_values_is_truncated(tmp_path):
    path, _item = verified_files("gguf/")[0]
    data = path.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: len(data) - 3])
    result = sniff(cut)
    assert isinstance(result, Refused) and result.retry
    assert "cut short" in result.reason


# -- files gguf-py's GGUFWriter writes -------------------------------------------------


def write_with_gguf_py(path: Path, *, tensors: bool = True, alignment: int | None = None) -> Path:
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("Writer Test")
    writer.add_block_count(2)
    writer.add_context_length(4096)
    writer.add_rope_freq_base(10000.0)
    writer.add_token_list([f"tok{i}" for i in range(300)])
    if alignment is not None:
        writer.add_custom_alignment(alignment)
    if tensors:
        rows = np.linspace(-1, 1, 64 * 4, dtype=np.float32).reshape(4, 64)
        writer.add_tensor("token_embd.weight", gguf.quants.quantize(rows, Q8_0), raw_dtype=Q8_0)
        writer.add_tensor("blk.0.attn_norm.weight", np.ones(33, dtype=np.float16))  # 66 bytes
        writer.add_tensor("output_norm.weight", np.zeros((3, 5), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_a_gguf_py_file_with_tensors_reads_as_gguf_py_reads_it(tmp_path):
    result = assert_same_as_gguf_py(write_with_gguf_py(tmp_path / "m.gguf"))
    assert result.details["tensors"] == (
        ("token_embd.weight", "Q8_0", (64, 4)),
        ("blk.0.attn_norm.weight", "F16", (33,)),
        ("output_norm.weight", "F32", (5, 3)),
    )
    assert result.details["kv"]["llama.context_length"] == 4096


def test_a_gguf_py_file_with_a_custom_alignment(tmp_path):
    path = write_with_gguf_py(tmp_path / "m.gguf", alignment=256)
    result = assert_same_as_gguf_py(path)
    assert result.details["kv"]["general.alignment"] == 256


def test_a_gguf_py_file_without_tensors_is_read(tmp_path):
    result = assert_same_as_gguf_py(write_with_gguf_py(tmp_path / "v.gguf", tensors=False))
    assert result.details["tensors"] == ()
    assert result.details["kv"]["general.name"] == "Writer Test"


def test_version_2_is_read_like_version_3(tmp_path):
    """v2 and v3 share the little-endian layout (v3 only added big-endian files)."""
    data = bytearray(write_with_gguf_py(tmp_path / "v3.gguf").read_bytes())
    data[4:8] = struct.pack("<I", 2)
    v2 = tmp_path / "v2.gguf"
    v2.write_bytes(bytes(data))
    result = assert_same_as_gguf_py(v2)
    assert result.details["version"] == 2
    assert len(result.details["tensors"]) == 3


def test_version_1_is_refused_as_ggml_refuses_it(tmp_path):
    data = bytearray(write_with_gguf_py(tmp_path / "v3.gguf").read_bytes())
    data[4:8] = struct.pack("<I", 1)
    v1 = tmp_path / "v1.gguf"
    v1.write_bytes(bytes(data))
    result = sniff(v1)
    assert isinstance(result, Refused) and not result.retry
    assert "version 1" in result.reason


def test_a_gguf_py_file_missing_its_last_byte_is_truncated(tmp_path):
    path = write_with_gguf_py(tmp_path / "m.gguf")
    # gguf-py pads after the last tensor too: cut into the tensor itself
    last_end = len(path.read_bytes()) - (-(15 * 4) % 32)
    with open(path, "r+b") as handle:
        handle.truncate(last_end - 1)
    result = sniff(path)
    assert isinstance(result, Refused) and result.retry
    assert f"ends at byte {last_end}" in result.reason


def test_the_padding_after_the_last_tensor_is_not_required(tmp_path):
    """llama.cpp's loader checks each tensor's bytes, not the padding after them."""
    path = write_with_gguf_py(tmp_path / "m.gguf")
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - (-(15 * 4) % 32))
    assert isinstance(sniff(path), Sniffed)


# -- differential fuzz: whatever we accept, gguf-py reads ---------------------------------

FUZZ_RUNS = {"differential": 0, "accepted": 0}


@pytest.fixture(scope="module")
def writer_file(tmp_path_factory) -> bytes:
    return write_with_gguf_py(tmp_path_factory.mktemp("gguf") / "w.gguf").read_bytes()


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_fuzz_whatever_we_accept_gguf_py_reads_the_same(writer_file, tmp_path, data):
    FUZZ_RUNS["differential"] += 1
    buffer = bytearray(writer_file)
    # mutate the header, where the rules live (the data section is opaque)
    header_end = writer_file.index(b"output_norm.weight") + 40
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, header_end))
        buffer[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.sampled_from([len(buffer), len(buffer) - 1, header_end]))
    sample = bytes(buffer[:cut])
    try:
        ours = read_gguf(io.BytesIO(sample), len(sample))
    except Malformed as exc:
        assert exc.reason
        return
    FUZZ_RUNS["accepted"] += 1
    path = tmp_path / "f.gguf"
    path.write_bytes(sample)
    # raises if gguf-py cannot read what we accepted (its values may be any bytes,
    # as in ggml, so only the structure is compared)
    reader = gguf.GGUFReader(path)
    assert list(ours["tensors"]) == reader_tensors(reader)


def test_fuzz_ran():
    if not FUZZ_RUNS["differential"]:
        pytest.skip("the fuzz test was not selected in this run")
    assert FUZZ_RUNS["differential"] >= 400
    # the mutations must leave some files valid, or the comparison proves nothing
    assert FUZZ_RUNS["accepted"] >= 20, FUZZ_RUNS
