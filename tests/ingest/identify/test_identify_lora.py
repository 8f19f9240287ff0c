"""LoRA rules: LyCORIS styles, the base model from rank shapes, PEFT adapters."""

from __future__ import annotations

import json

import pytest
from identify_support import identify_path

from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.identify import identify
from modeld.ingest.planner import plan_units
from tests import modelfiles


def test_lora_base_follows_from_the_rank_shapes(tmp_path):
    """Same key names, different context width: the down projection's input decides."""
    for base, family in (("sd15", "sd15"), ("sd2", "sd2")):
        _, identity = identify_path(modelfiles.lora(tmp_path / base / "x.safetensors", base))
        assert identity.family.value == family
        assert identity.extra["context_dim"] == modelfiles.CONTEXT_DIM[base]


@pytest.mark.parametrize(
    ("style", "evidence"),
    [("lora", "lora"), ("locon", "locon"), ("loha", "loha"), ("lokr", "lokr")],
)
def test_lycoris_styles_are_loras(tmp_path, style, evidence):
    _, identity = identify_path(modelfiles.lora(tmp_path / "x.safetensors", "sdxl", style))
    assert identity.model_type.value == "lora"
    assert identity.extra["lora_style"] == evidence


def test_peft_adapter_takes_its_base_from_adapter_config(tmp_path):
    folder = tmp_path / "my-qlora"
    modelfiles.llm_lora(folder / "adapter_model.safetensors")
    (folder / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "Qwen/Qwen2.5-7B-Instruct", "peft_type": "LORA"})
    )
    units, problems = plan_units([folder])
    assert problems == [] and units[0].name == "my-qlora"
    identity = identify(units[0], inspect_unit(units[0]))
    assert identity.model_type.value == "lora"
    assert (identity.family.value, identity.family.source) == ("qwen", "metadata")
    assert identity.hints["adapter.base_model"] == "Qwen/Qwen2.5-7B-Instruct"
