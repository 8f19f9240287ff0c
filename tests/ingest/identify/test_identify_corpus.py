"""Identification over the labelled corpus of real files: every field, every entry."""

from __future__ import annotations

from collections import Counter

import pytest

from modeld.ingest.formats import Sniffed
from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.identify import identify
from modeld.ingest.planner import plan_units
from tests import modelfiles

FIELDS = ("format", "model_type", "family", "precision", "quant", "files")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    expected = modelfiles.build_corpus(root)
    units, problems = plan_units([root], boundary=root)
    assert problems == []
    by_entry = {u.primary.path.relative_to(root).parts[0]: u for u in units}
    return expected, by_entry


def test_corpus_is_identified_exactly(corpus, capsys):
    expected, units = corpus
    right: Counter[str] = Counter()
    wrong = []
    for entry in expected:
        unit = units[entry.rel]
        sniffed = inspect_unit(unit)
        assert isinstance(sniffed, Sniffed), (entry.rel, sniffed)
        identity = identify(unit, sniffed)
        got = {
            "format": sniffed.format,
            "model_type": identity.model_type.value,
            "family": identity.family.value,
            "precision": identity.precision.value,
            "quant": identity.quant.value,
            "files": len(unit.files),
        }
        for name in FIELDS:
            if got[name] == getattr(entry, name):
                right[name] += 1
            else:
                wrong.append((entry.rel, name, got[name], getattr(entry, name)))
    with capsys.disabled():
        total = len(expected)
        print(f"\nidentification accuracy over {total} corpus models:")
        for name in FIELDS:
            print(f"  {name:11} {right[name]}/{total} = {right[name] / total:.0%}")
    assert wrong == []


def test_corpus_covers_every_model_type_and_format(corpus):
    expected, _units = corpus
    assert {e.model_type for e in expected} == {
        "checkpoint", "lora", "vae", "controlnet", "embedding", "upscaler",
        "text_encoder", "clip_vision", "diffusion_model", "diffusers", "llm",
    }  # fmt: skip
    assert {e.format for e in expected} == {"safetensors", "gguf", "pickle", "onnx", "diffusers"}
