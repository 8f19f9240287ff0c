"""Labels and the Identity they make up: where each came from, and their JSON form."""

from __future__ import annotations

import json

from identify_support import identify_path

from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.identify import identify
from modeld.ingest.units import ImportUnit, UnitFile
from tests import modelfiles


def test_labels_say_where_they_came_from(tmp_path):
    _, header = identify_path(modelfiles.sdxl_checkpoint(tmp_path / "a" / "anything.safetensors"))
    assert header.model_type.source == "header" and header.family.source == "header"
    assert header.family.confidence >= 0.9
    _, metadata = identify_path(
        modelfiles.lora(
            tmp_path / "b" / "x.safetensors",
            "sd15",
            "lokr",
            metadata={"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"},
        )
    )
    assert metadata.family.value == "sdxl" and metadata.family.source == "metadata"
    _, name = identify_path(modelfiles.vae(tmp_path / "c" / "sdxl_vae_fp16_fix.safetensors"))
    assert name.family.value == "sdxl" and name.family.source == "name"
    assert name.family.confidence < header.family.confidence


def test_labels_are_json_and_match_the_identity(tmp_path):
    unit = ImportUnit(
        "file",
        "x",
        (UnitFile(modelfiles.lora(tmp_path / "x.safetensors"), "x.safetensors", "weights"),),
    )
    identity = identify(unit, inspect_unit(unit))
    labels = json.loads(json.dumps(identity.labels()))
    assert labels["model_type"] == {
        "value": "lora",
        "source": "header",
        "confidence": identity.model_type.confidence,
    }
    assert labels["precision"]["value"] == "fp16" and labels["params"] == identity.params
    assert labels["evidence"]["lora_style"] == "lora"
