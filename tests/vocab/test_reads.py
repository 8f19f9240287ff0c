"""Careful reads: a FIFO is never opened for reading, JSON only up to its cap."""

from __future__ import annotations

import json
import os

import pytest

from modeld.vocab.reads import (
    Malformed,
    file_kind,
    open_regular,
    read_json_object,
    read_optional_json,
)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    # no writer ever opens it: a blocking open would hang this test
    with pytest.raises(Malformed, match=r"not a regular file \(a FIFO\)") as caught:
        open_regular(fifo)
    assert caught.value.retry is False


def test_a_regular_file_opens_with_its_size(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b"{}\n")
    handle, size = open_regular(path)
    with handle:
        assert (size, handle.read()) == (3, b"{}\n")


def test_a_missing_file_names_itself_in_the_json_reader(tmp_path):
    with pytest.raises(Malformed, match=r"^absent.json: cannot open"):
        read_json_object(tmp_path / "absent.json")
    assert read_optional_json(tmp_path / "absent.json") is None


def test_json_over_the_cap_is_not_read(tmp_path):
    path = tmp_path / "model.safetensors.index.json"
    path.write_text(json.dumps({"weight_map": {"a": "x" * 100}}))
    with pytest.raises(Malformed, match=r"bytes \(cap 64\)"):
        read_json_object(path, cap=64)
    assert read_json_object(path, cap=1 << 20)["weight_map"] == {"a": "x" * 100}


@pytest.mark.parametrize(
    "text", ["[1, 2]", "not json", "\udcff".encode("utf-8", "surrogateescape")]
)
def test_anything_but_a_json_object_is_malformed(tmp_path, text):
    path = tmp_path / "config.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(Malformed):
        read_json_object(path)
    assert read_optional_json(path) is None


def test_file_kind_names_what_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    assert file_kind(os.lstat(tmp_path / "fifo").st_mode) == "a FIFO"
    assert file_kind(os.lstat(tmp_path).st_mode) == "a directory"
