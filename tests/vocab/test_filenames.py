"""What a file's name says: the rules the planner, links and the hub share."""

from __future__ import annotations

import pytest

from modeld.vocab.filenames import (
    SHARD,
    candidate_stems,
    is_companion_name,
    is_generic_stem,
    is_weights_name,
)


@pytest.mark.parametrize(
    "name", ["a.safetensors", "A.GGUF", "unet/diffusion_pytorch_model.bin", "m.onnx"]
)
def test_weights_names(name):
    assert is_weights_name(name)
    assert not is_companion_name(name)


@pytest.mark.parametrize(
    "name",
    ["a.preview.png", "model.safetensors.index.json", "README", "LICENSE", "m.onnx.data", "x.yaml"],
)
def test_companion_names(name):
    assert is_companion_name(name)
    assert not is_weights_name(name)


def test_a_name_without_an_extension_is_a_companion_only_when_it_is_a_known_one():
    assert not is_companion_name("notes")
    assert not is_weights_name("notes")


def test_generic_stems_say_nothing_about_the_model():
    assert is_generic_stem("Diffusion_Pytorch_Model")
    assert not is_generic_stem("ink-lora")


def test_candidate_stems_strip_one_extension_at_a_time():
    assert candidate_stems("foo.preview.png") == ["foo.preview", "foo"]
    assert candidate_stems(".hidden") == []


def test_shard_names():
    match = SHARD.match("model-00002-of-00003.safetensors")
    assert match is not None
    assert (match["base"], int(match["index"]), int(match["total"]), match["ext"]) == (
        "model",
        2,
        3,
        "safetensors",
    )
    assert SHARD.match("model-2of3.safetensors") is None
