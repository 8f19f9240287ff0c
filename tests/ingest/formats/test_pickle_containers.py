"""Pickles wherever they hide: any protocol, cut short, behind garbage, in unreadable zips.

The exploit pickles here are made by `pickle.dumps` of an object whose
`__reduce__` names `os.system`: dumping runs nothing, and nothing here ever
loads them (the marker file would show it).
"""

from __future__ import annotations

import os
import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from modeld.ingest.formats import Dangerous, Refused, Sniffed, sniff
from tests import modelfiles


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "MARKER-payload-ran"
    yield path
    assert not path.exists(), "a pickle payload was executed"


@pytest.mark.parametrize("protocol", range(6))
@pytest.mark.parametrize("shape", ["whole", "truncated", "garbage after"])
def test_exploits_are_found_in_every_protocol_however_they_end(tmp_path, marker, protocol, shape):
    data = pickle.dumps(_Exploit(marker), protocol=protocol)
    if shape == "truncated":
        data = data[:-3]
    elif shape == "garbage after":
        data += b"\n\xff\xfe\t\tnot a pickle"
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    result = sniff(path)
    assert isinstance(result, Dangerous), result
    assert {"posix.system", "os.system"} & set(result.imports)
    assert "can run code" in result.reason


def test_a_harmless_pickle_behind_another_is_scanned_too(tmp_path, marker):
    first = pickle.dumps(["a", "b"], protocol=2)
    hidden = pickle.dumps(_Exploit(marker), protocol=0)  # no PROTO header to spot it by
    path = tmp_path / "model.pkl"
    path.write_bytes(first + hidden)
    result = sniff(path)
    assert isinstance(result, Dangerous) and {"posix.system", "os.system"} & set(result.imports)


def test_plain_data_pickles_of_every_protocol_are_pickles(tmp_path):
    for protocol in range(6):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps({"weights": [1.0, 2.0], "name": "x"}, protocol=protocol))
        result = sniff(path)
        assert isinstance(result, Sniffed) and result.format == "pickle", (protocol, result)


def _stored_member_offset(data: bytes, name: str) -> int:
    """Where a stored member's bytes start, from its local header."""
    at = data.index(b"PK\x03\x04")
    while True:
        name_len, extra_len = struct.unpack("<HH", data[at + 26 : at + 30])
        if data[at + 30 : at + 30 + name_len].decode() == name:
            return at + 30 + name_len + extra_len
        at = data.index(b"PK\x03\x04", at + 4)


def _set_flag(data: bytearray, name: str, flag: int) -> None:
    """Set a general-purpose flag bit in a member's local and central headers."""
    encoded = name.encode()
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at : at + name_at + len(encoded)] == encoded:
                (flags,) = struct.unpack("<H", data[at + flag_at : at + flag_at + 2])
                data[at + flag_at : at + flag_at + 2] = struct.pack("<H", flags | flag)
            at = data.find(signature, at + 4)


def test_a_pickle_member_with_a_bad_crc_cannot_be_verified(tmp_path):
    path = modelfiles.write_torch_zip_pickle(tmp_path / "m.ckpt")
    data = bytearray(path.read_bytes())
    start = _stored_member_offset(bytes(data), "archive/data.pkl")
    data[start + 3] ^= 0xFF  # inside data.pkl; the CRC in the headers no longer matches
    path.write_bytes(bytes(data))
    result = sniff(path)
    assert isinstance(result, Dangerous) and "cannot be verified" in result.reason
    assert "CRC" in result.reason


@pytest.mark.parametrize(
    ("flag", "what"), [(0x1, "encrypted"), (0x20, "patched"), (0x40, "strong")]
)
def test_a_pickle_member_zipfile_cannot_open_cannot_be_verified(tmp_path, flag, what):
    path = modelfiles.write_torch_zip_pickle(tmp_path / "m.ckpt")
    data = bytearray(path.read_bytes())
    _set_flag(data, "archive/data.pkl", flag)
    path.write_bytes(bytes(data))
    result = sniff(path)
    assert isinstance(result, Dangerous), result
    assert "cannot be verified" in result.reason and what in result.reason


def test_a_zip_without_pickles_that_cannot_be_read_is_refused(tmp_path):
    path = tmp_path / "notes.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "hello")
    data = bytearray(path.read_bytes())
    _set_flag(data, "notes.txt", 0x1)
    path.write_bytes(bytes(data))
    result = sniff(path)
    assert isinstance(result, Refused) and "encrypted" in result.reason


def test_torchscript_archives_are_quarantined_because_they_carry_code(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model/data.pkl", modelfiles.benign_state_dict_pickle({"w": ("F16", (2,))}))
        zf.writestr("model/data/0", b"\0" * 4)
        zf.writestr("model/code/__torch__/model.py", "def forward(self, x):\n  return x\n")
        zf.writestr("model/constants.pkl", pickle.dumps((), protocol=2))
    result = sniff(path)
    assert isinstance(result, Dangerous)
    assert "TorchScript" in result.reason and "code" in result.reason


def test_memo_fetched_storage_parts_and_pointer_keys_are_resolved(tmp_path):
    # older torch fetches 'storage', the storage class and the location from the
    # memo for every tensor after the first, and keys storages by address
    data = bytearray(b"\x80\x02}q\x00(")
    keys = ["94340341200128", "94340341200368"]
    for index, key in enumerate(keys):
        data += modelfiles._pickle_str(f"w{index}")
        if index == 0:
            data += b"(X\x07\x00\x00\x00storageq\x01ctorch\nFloatStorage\nq\x02"
            data += modelfiles._pickle_str(key) + b"X\x03\x00\x00\x00cpuq\x03K\x04tq\x04Q"
        else:
            data += b"(h\x01h\x02" + modelfiles._pickle_str(key) + b"h\x03K\x04tq\x05Q"
    data += b"u."
    path = tmp_path / "old.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", bytes(data))
        for key in keys:
            zf.writestr(f"archive/data/{key}", b"\0" * 16)
    result = sniff(path)
    assert isinstance(result, Sniffed), result
    assert result.details["storages"] == {"F32": 8}
