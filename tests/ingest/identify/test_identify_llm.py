"""LLM rules: config.json names the family; the layout and the name tell the rest."""

from __future__ import annotations

import json

from identify_support import identify_path

from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.identify import identify
from modeld.ingest.planner import plan_units
from tests import modelfiles


def test_config_json_decides_an_llm_family(tmp_path):
    folder = tmp_path / "Some-Finetune"
    modelfiles.llm_safetensors(folder / "model.safetensors", "llama")
    (folder / "config.json").write_text(
        json.dumps({"model_type": "mistral", "_name_or_path": "mistralai/Mistral-7B-v0.1"})
    )
    units, _ = plan_units([folder])
    sniffed = inspect_unit(units[0])
    identity = identify(units[0], sniffed)
    assert (identity.family.value, identity.family.source) == ("mistral", "metadata")
    assert identity.hints["config._name_or_path"] == "mistralai/Mistral-7B-v0.1"
    assert units[0].name == "Some-Finetune"


def test_dolphin_is_not_phi(tmp_path):
    _, identity = identify_path(
        modelfiles.llm_safetensors(tmp_path / "dolphin-2.9-llama3.safetensors", "llama")
    )
    assert identity.family.value == "llama"
