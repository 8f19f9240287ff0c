"""Precision and quant: GGUF file types and dtypes, quantization_config, the name."""

from __future__ import annotations

import json

from identify_support import identify_path

from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.identify import identify
from modeld.ingest.planner import plan_units
from tests import modelfiles


def test_gguf_without_file_type_takes_the_quant_from_the_name(tmp_path):
    _, identity = identify_path(
        modelfiles.write_gguf(tmp_path / "model.IQ4_XS.gguf", file_type=None)
    )
    assert (identity.quant.value, identity.quant.source) == ("IQ4_XS", "name")
    _, identity = identify_path(
        modelfiles.write_gguf(tmp_path / "x" / "model.gguf", file_type=None)
    )
    assert (identity.quant.value, identity.quant.source) == ("Q4_K", "header")


def test_quantized_safetensors_take_the_quant_from_config(tmp_path):
    folder = tmp_path / "llama-gptq"
    modelfiles.write_safetensors(
        folder / "model.safetensors",
        {
            "model.layers.0.self_attn.q_proj.qweight": ("I32", (64, 64)),
            "lm_head.weight": ("F16", (8, 8)),
        },
    )
    (folder / "config.json").write_text(
        json.dumps(
            {"model_type": "llama", "quantization_config": {"quant_method": "gptq", "bits": 4}}
        )
    )
    units, _ = plan_units([folder])
    identity = identify(units[0], inspect_unit(units[0]))
    assert identity.quant.value == "GPTQ" and identity.precision.value is None
