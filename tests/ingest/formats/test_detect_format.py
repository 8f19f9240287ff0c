"""Content, not names: what the leading bytes say, and why a file is refused."""

from __future__ import annotations

import io
import os
import stat
import struct
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeld.ingest.formats import Dangerous, Malformed, Refused, Sniffed, sniff
from modeld.ingest.formats.detect import sniff_handle
from tests import modelfiles


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("model.safetensors", modelfiles.HTML_PAGE, "an HTML page, not a model"),
        ("model.safetensors", modelfiles.LFS_POINTER, "a Git LFS pointer"),
        ("model.ckpt", b'{"error": "Repository not found"}', "JSON text"),
        ("model.gguf", b"Not Found\n" * 5, "a text file"),
        ("old.bin", b"tjgg" + bytes(60), "legacy GGJT"),
        ("m.safetensors", b"\x1f\x8b\x08\x00" + bytes(60), "gzip archive"),
        ("m.safetensors", b"\x89PNG\r\n\x1a\n" + bytes(60), "PNG image"),
        ("m.onnx", b"\x7fELF" + bytes(60), "executable"),
        ("m.bin", bytes(range(200, 256)) * 2, "unknown format (starts with c8 c9"),
        ("tiny.safetensors", b"\x00\x01\x02", "too short to be a model (3 bytes)"),
    ],
)
def test_files_that_are_not_models_are_refused_with_what_they_are(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    result = sniff(path)
    assert isinstance(result, Refused) and not result.retry
    assert reason in result.reason


def test_a_7z_archive_is_quarantined_as_unverifiable(tmp_path):
    # pickles are shipped inside 7z archives, and modeld cannot look inside one
    path = tmp_path / "m.pt"
    path.write_bytes(b"7z\xbc\xaf\x27\x1c" + bytes(60))
    result = sniff(path)
    assert isinstance(result, Dangerous)
    assert "7z archive" in result.reason and "cannot be verified" in result.reason


def test_refusal_names_the_lying_extension(tmp_path):
    path = tmp_path / "flux1-dev.safetensors"
    path.write_bytes(modelfiles.HTML_PAGE)
    assert sniff(path).reason.endswith("although it is named .safetensors")


def test_content_wins_over_the_extension(tmp_path):
    gguf = modelfiles.write_gguf(tmp_path / "actually-gguf.safetensors")
    safetensors = modelfiles.lora(tmp_path / "actually-safetensors.ckpt")
    assert sniff(gguf).format == "gguf"
    assert sniff(safetensors).format == "safetensors"


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.safetensors"
    path.touch()
    result = sniff(path)
    assert isinstance(result, Refused) and "empty file" in result.reason


def test_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.safetensors"
    os.mkfifo(path)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(sniff(path)), daemon=True)
    worker.start()
    worker.join(10)  # a blocking open would hang here: the thread would still be alive
    assert not worker.is_alive()
    assert isinstance(outcome[0], Refused) and "FIFO" in outcome[0].reason


def test_device_node_is_refused(tmp_path):
    path = tmp_path / "device.gguf"
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # like /dev/null
    except PermissionError:
        pytest.skip("creating a device node needs root (CAP_MKNOD)")
    result = sniff(path)
    assert isinstance(result, Refused) and "character device" in result.reason


def test_onnx_model_is_recognised(tmp_path):
    result = sniff(modelfiles.write_onnx(tmp_path / "m.onnx", producer="pytorch", opset=17))
    assert isinstance(result, Sniffed) and result.format == "onnx"
    assert result.details["ir_version"] == 8 and result.details["producer_name"] == "pytorch"
    assert result.details["opsets"] == {"": 17}


def test_truncated_onnx_waits_and_garbage_is_refused(tmp_path):
    data = modelfiles.onnx_model_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) - 20])
    result = sniff(cut)
    assert isinstance(result, Refused) and result.retry
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(data + b"\x7a\x01\x02")  # field 15 is not part of ModelProto
    result = sniff(junk)
    assert isinstance(result, Refused) and "unknown ModelProto field 15" in result.reason
    no_graph = tmp_path / "nograph.onnx"
    no_graph.write_bytes(b"\x08\x08" + b"\x12\x03abc")
    assert "0 graphs" in sniff(no_graph).reason


def test_unreadable_file_is_refused(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    path = modelfiles.lora(tmp_path / "locked.safetensors")
    path.chmod(0)
    assert "cannot open" in sniff(path).reason


def test_sparse_multi_gigabyte_header_is_read_without_reading_the_data(tmp_path):
    """A 7B-sized safetensors (sparse) is parsed from its header alone."""
    tensors = modelfiles.llm_tensors("llama", layers=32, hidden=4096)
    path = modelfiles.write_safetensors(tmp_path / "big.safetensors", tensors)
    assert path.stat().st_size > 2**30
    result = sniff(path)
    assert isinstance(result, Sniffed) and len(result.details["tensors"]) == len(tensors)
    with open(path, "rb") as handle:
        assert struct.unpack("<Q", handle.read(8))[0] < 1 << 20


# -- fuzz: every dispatcher branch (zip, pickle, ONNX, text) over hostile bytes -------

DISPATCH_RUNS = [0]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    return [
        modelfiles.write_torch_zip_pickle(folder / "a.pt").read_bytes(),
        modelfiles.onnx_model_bytes(),
        modelfiles.benign_state_dict_pickle({"w": ("F16", (2, 2))}),
        modelfiles.dangerous_pickle("memo", folder / "never"),
        modelfiles.dangerous_pickle("builtins.eval", folder / "never"),
    ]


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_fuzz_dispatch_never_raises(seeds, data):
    """Mutated zips, pickles and ONNX: a verdict or Malformed, nothing else."""
    DISPATCH_RUNS[0] += 1
    buffer = bytearray(data.draw(st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(0, 6))):
        buffer[data.draw(st.integers(0, len(buffer) - 1))] = data.draw(st.integers(0, 255))
    blob = bytes(buffer[: data.draw(st.integers(1, len(buffer)))])
    try:
        verdict = sniff_handle(io.BytesIO(blob), len(blob), "fuzz.bin")
    except Malformed as exc:
        assert exc.reason
    else:
        assert isinstance(verdict, Sniffed | Refused | Dangerous)


def test_fuzz_dispatch_ran(capsys):
    if not DISPATCH_RUNS[0]:
        pytest.skip("the fuzz test was not selected in this run")
    with capsys.disabled():
        print(f"\ndispatch (zip/pickle/ONNX) fuzz examples: {DISPATCH_RUNS[0]}")
    assert DISPATCH_RUNS[0] >= 1500
