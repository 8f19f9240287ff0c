"""Finding the model a user named: id, id prefix, or exact name, and never a guess."""

from __future__ import annotations

import pytest

from modeld.library.index import AmbiguousModel, find_model, upsert_model
from modeld.library.metadata import FileEntry, ModelMeta


def add(config, model_id: str, name: str) -> ModelMeta:
    digest = model_id.ljust(64, "0")
    meta = ModelMeta(
        id=model_id,
        name=name,
        model_type="lora",
        family="sdxl",
        format="safetensors",
        size=1,
        sha256=digest,
        blake3=digest,
        files=[FileEntry(f"{name}.safetensors", 1, digest, digest, f"{name}.safetensors")],
    )
    upsert_model(config.library_root, config.library_root / "lora" / "sdxl" / model_id, meta)
    return meta


@pytest.fixture
def library(config, index):
    add(config, "a1b2c3d4e5f60718", "Ink-Wash")
    add(config, "a1b2ffff00001111", "Detail")
    add(config, "99990000aaaabbbb", "detail")  # same name, other case: a different model
    return config


def test_an_exact_id_and_an_unambiguous_prefix(library):
    assert find_model("a1b2c3d4e5f60718").name == "Ink-Wash"
    assert find_model("a1b2c3").name == "Ink-Wash"
    assert find_model("9999").model_id == "99990000aaaabbbb"


def test_a_short_or_shared_prefix_is_not_a_guess(library):
    assert find_model("a1b") is None  # under four characters: never a prefix
    with pytest.raises(AmbiguousModel) as info:
        find_model("a1b2")
    assert {r.model_id for r in info.value.candidates} == {"a1b2c3d4e5f60718", "a1b2ffff00001111"}
    assert "'a1b2' matches 2 models" in str(info.value)


def test_an_exact_name_in_any_case(library):
    assert find_model("ink-wash").model_id == "a1b2c3d4e5f60718"
    assert find_model("Ink") is None  # names match whole, not by prefix
    with pytest.raises(AmbiguousModel, match="'DETAIL' matches 2 models"):
        find_model("DETAIL")


def test_nothing_matches(library):
    assert find_model("nothing-like-it") is None
