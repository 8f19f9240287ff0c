"""Pickle checkpoints: scanned by opcode walk + picklescan, never unpickled.

The dangerous payloads are hand-assembled (tests/modelfiles.py) so that, if
anything ever loaded them, they would create a marker file; every test that
handles one checks the marker is still absent.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from modeld.ingest.formats import Dangerous, Refused, Sniffed, sniff
from modeld.ingest.formats.pickles import HARMLESS, is_harmless
from tests import modelfiles

TORCH_WRITTEN = Path(__file__).parent / "data"  # see make_torch_fixtures.py there

DANGEROUS_KINDS = {
    "os.system": "os.system",
    "posix.system": "posix.system",
    "builtins.exec": "builtins.exec",
    "builtins.eval": "__builtin__.eval",
    "subprocess.Popen": "subprocess.Popen",
    "runpy.run_path": "runpy.run_path",
    "memo": "os.system",
    "nested": "os.system",
}


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "MARKER-payload-ran"
    yield path
    assert not path.exists(), "a pickle payload was executed"


def test_benign_torch_zip_gives_tensor_names_and_dtypes(tmp_path, marker):
    path = modelfiles.write_torch_zip_pickle(
        tmp_path / "model.ckpt",
        tensors={"model.diffusion_model.out.2.weight": ("F16", (4, 8)), "b": ("F16", (3,))},
    )
    result = sniff(path)
    assert isinstance(result, Sniffed) and result.format == "pickle"
    assert result.details["container"] == "zip"
    assert "model.diffusion_model.out.2.weight" in result.details["names"]
    assert result.details["storages"] == {"F16": 35}


@pytest.mark.parametrize(
    ("storage", "dtype"),
    [("BFloat16Storage", "BF16"), ("FloatStorage", "F32"), ("HalfStorage", "F16")],
)
def test_storage_types_are_harmless_and_give_the_dtype(tmp_path, storage, dtype):
    path = modelfiles.write_torch_zip_pickle(
        tmp_path / "m.pt", tensors={"w": (dtype, (4,))}, storage=storage
    )
    result = sniff(path)
    assert isinstance(result, Sniffed)
    assert result.details["storages"] == {dtype: 4}


def test_raw_pickle_of_plain_data_is_a_pickle(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(
        pickle.dumps({"layer.weight": [1.0, 2.0], "step": 3}, protocol=4)
    )  # dumps, never loads
    result = sniff(path)
    assert isinstance(result, Sniffed) and result.details["container"] == "raw"
    assert "layer.weight" in result.details["names"]


def test_legacy_torch_format_scans_five_streams_and_skips_the_raw_data(tmp_path):
    streams = [
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2),
        pickle.dumps(1001, protocol=2),
        pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        modelfiles.benign_state_dict_pickle({"w": ("F32", (2, 2))}, "FloatStorage"),
        pickle.dumps(["0"], protocol=2),
    ]
    raw = struct.pack("<Q", 4) + b"\x80\x02" + b"\xff" * 14  # storage bytes that look like a pickle
    path = tmp_path / "old.pth"
    path.write_bytes(b"".join(streams) + raw)
    result = sniff(path)
    assert isinstance(result, Sniffed) and result.details["container"] == "legacy"
    assert result.details["storages"] == {"F32": 4}


@pytest.mark.parametrize("container", ["zip", "raw"])
@pytest.mark.parametrize("kind", sorted(DANGEROUS_KINDS))
def test_dangerous_payloads_are_found_and_never_run(tmp_path, marker, kind, container):
    script = tmp_path / "payload.py"
    if container == "zip":
        path = modelfiles.write_torch_zip_pickle(
            tmp_path / "evil.ckpt", kind, marker=marker, script=script
        )
    else:
        path = modelfiles.write_raw_pickle(
            tmp_path / "evil.pt", modelfiles.dangerous_pickle(kind, marker, script)
        )
    result = sniff(path)
    assert isinstance(result, Dangerous), result
    assert DANGEROUS_KINDS[kind] in result.imports
    assert "can run code" in result.reason
    assert not marker.exists()


def test_torch_written_float8_tensors_give_their_dtype():
    # torch saves float8 tensors in an UntypedStorage and names the dtype in
    # _rebuild_tensor_v3 (torch.storage._new_dtypes); written by torch 2.13
    result = sniff(TORCH_WRITTEN / "float8.pt")
    assert isinstance(result, Sniffed), result
    assert result.details["storages"] == {"F8_E4M3": 24}


@pytest.mark.parametrize("name", ["sd1-with-callbacks.ckpt", "sd1-with-callbacks-legacy.ckpt"])
def test_sd1_checkpoints_with_lightning_callbacks_are_accepted(name):
    # what the original SD 1.x .ckpt files carry beside the weights: ComfyUI
    # registers ModelCheckpoint as a data-only stub, A1111 allows it
    result = sniff(TORCH_WRITTEN / name)
    assert isinstance(result, Sniffed), result
    assert "model.diffusion_model.out.2.weight" in result.details["names"]
    assert result.details["storages"] == {"F16": 36}


def test_an_import_outside_the_allow_list_is_quarantined_naming_it():
    result = sniff(TORCH_WRITTEN / "whole-module.pt")  # torch.save(nn.Linear(2, 2))
    assert isinstance(result, Dangerous)
    assert result.imports == ("torch.nn.modules.linear.Linear",)
    assert "torch.nn.modules.linear.Linear" in result.reason
    assert "not on the allow-list" in result.reason


def test_extension_registry_opcode_is_dangerous(tmp_path):
    result = sniff(modelfiles.write_raw_pickle(tmp_path / "m.pt", b"\x80\x02\x82\x01)R."))
    assert isinstance(result, Dangerous) and result.imports == ("copyreg.extension[1]",)


def test_stack_global_from_computed_strings_is_dangerous(tmp_path):
    # the module name comes from a call result, not a literal: it cannot be vetted
    data = (
        b"\x80\x04"
        + b"c_codecs\nencode\n"
        + b"(\x8c\x02os\x8c\x05ascii"
        + b"tR"
        + b"\x8c\x06system\x93)R."
    )
    result = sniff(modelfiles.write_raw_pickle(tmp_path / "m.pt", data))
    assert isinstance(result, Dangerous) and "<unresolved>" in result.imports


def test_a_stream_that_cannot_be_fully_scanned_is_dangerous(tmp_path):
    tensors = {"w": ("F16", (2,))}
    broken = modelfiles.benign_state_dict_pickle(tensors)[:-1] + b"\xfe."  # invalid opcode
    result = sniff(modelfiles.write_torch_zip_pickle(tmp_path / "m.ckpt", broken, tensors=tensors))
    assert isinstance(result, Dangerous) and "could not be fully scanned" in result.reason


def test_a_stream_picklescan_chokes_on_is_dangerous(tmp_path):
    # STACK_GLOBAL with one value on the stack: picklescan raises (found by fuzzing)
    result = sniff(modelfiles.write_raw_pickle(tmp_path / "m.pt", b"\x80\x04\x8c\x02os\x93."))
    assert isinstance(result, Dangerous)


def test_truncated_raw_pickle_waits(tmp_path):
    data = modelfiles.benign_state_dict_pickle({"w": ("F16", (2,))})
    result = sniff(modelfiles.write_raw_pickle(tmp_path / "m.pt", data[: len(data) // 2]))
    assert isinstance(result, Refused) and result.retry and "STOP" in result.reason


def test_huge_length_inside_a_pickle_does_not_allocate(tmp_path):
    data = b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"\0" * 16  # BINBYTES8
    result = sniff(modelfiles.write_raw_pickle(tmp_path / "m.pt", data))
    assert isinstance(result, Refused)


def test_text_starting_like_an_old_pickle_is_not_a_pickle(tmp_path):
    path = tmp_path / "notes.bin"
    path.write_text("config: use the (second) model\n")
    result = sniff(path)
    assert isinstance(result, Refused) and "text file" in result.reason


def test_zip_without_data_pkl_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "loras.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    result = sniff(path)
    assert isinstance(result, Refused) and "no data.pkl" in result.reason


def test_members_data_pkl_never_names_are_ignored_as_torch_ignores_them(tmp_path):
    result = sniff(modelfiles.many_entry_zip(tmp_path / "many.pt", 10_000))
    assert isinstance(result, Sniffed) and result.details["storages"] == {"F16": 2}


def test_a_pickle_hidden_in_an_unreferenced_member_is_found(tmp_path, marker):
    path = modelfiles.many_entry_zip(tmp_path / "many.pt", 3)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("archive/data/7", modelfiles.dangerous_pickle("os.system", marker))
    result = sniff(path)
    assert isinstance(result, Dangerous) and "os.system" in result.imports


def test_missing_and_short_storages_are_refused(tmp_path):
    tensors = {"w": ("F16", (64,))}
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", modelfiles.benign_state_dict_pickle(tensors))
    assert "does not hold" in sniff(path).reason
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", modelfiles.benign_state_dict_pickle(tensors))
        zf.writestr("archive/data/0", b"\0" * 10)
    assert "holds 10 bytes, 128 expected" in sniff(path).reason


def test_zip_bomb_is_refused_without_inflating(tmp_path):
    result = sniff(modelfiles.zip_bomb(tmp_path / "bomb.ckpt"))
    assert isinstance(result, Refused) and "zip bomb" in result.reason


def test_zip_with_overlapping_members_is_refused(tmp_path):
    path = modelfiles.write_torch_zip_pickle(tmp_path / "m.pt")
    data = bytearray(path.read_bytes())
    second = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    data[second + 42 : second + 46] = struct.pack("<I", 0)  # point it at the first member
    path.write_bytes(bytes(data))
    result = sniff(path)
    assert isinstance(result, Refused) and "overlap" in result.reason


def test_truncated_zip_waits(tmp_path):
    path = modelfiles.write_torch_zip_pickle(tmp_path / "m.pt")
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - 30)
    result = sniff(path)
    assert isinstance(result, Refused) and result.retry and "end record" in result.reason


def test_harmless_list_is_an_allow_list():
    assert is_harmless("torch._utils._rebuild_tensor_v2")
    assert is_harmless("torch.HalfStorage") and is_harmless("torch.float8_e4m3fn")
    assert is_harmless("__builtin__.set")  # a Python 2 name, mapped as the unpickler maps it
    for name in (
        "os.system",
        "builtins.eval",
        "torch.load",
        "torch.storage._load_from_bytes",
        "numpy.load",
        "__builtin__.eval",
        "torch.Float8_e4m3fnStorage",  # torch never writes it, so no loader allows it
    ):
        assert not is_harmless(name)
    assert not any(name.startswith(("os.", "posix.", "subprocess.", "runpy.")) for name in HARMLESS)


def test_an_unsupported_zip_version_is_a_broken_archive_not_a_crash(tmp_path):
    """Found by the dispatch fuzz test: zipfile raises NotImplementedError here."""
    path = modelfiles.write_torch_zip_pickle(
        tmp_path / "odd.pt", modelfiles.benign_state_dict_pickle({"w": ("F16", [2])})
    )
    data = bytearray(path.read_bytes())
    directory = data.rfind(b"PK\x01\x02")
    data[directory + 6] = 64  # "version needed to extract": 6.4
    path.write_bytes(bytes(data))
    result = sniff(path)
    assert isinstance(result, Refused)
    assert "zip file version 6.4" in result.reason
