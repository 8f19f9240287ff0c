"""Names come last: they fill what the header left unknown and never override it."""

from __future__ import annotations

from identify_support import identify_path

from tests import modelfiles


def test_name_does_not_override_the_header(tmp_path):
    # a LoRA named like a VAE for SDXL is still an SD1.5 LoRA
    _, identity = identify_path(
        modelfiles.lora(tmp_path / "sdxl_vae_lookalike.safetensors", "sd15")
    )
    assert identity.model_type.value == "lora" and identity.family.value == "sd15"


def test_unknown_tensors_fall_back_to_the_name_then_to_unknown(tmp_path):
    _, named = identify_path(
        modelfiles.write_safetensors(
            tmp_path / "a" / "my_lora_v2.safetensors", {"weird.thing": ("F16", (2,))}
        )
    )
    assert (named.model_type.value, named.model_type.source) == ("lora", "name")
    _, unknown = identify_path(
        modelfiles.write_safetensors(
            tmp_path / "b" / "blob.safetensors", {"weird.thing": ("F16", (2,))}
        )
    )
    assert unknown.model_type.value == "unknown" and unknown.family.value == "unknown"
    assert unknown.model_type.source == "default" and unknown.model_type.confidence == 0.0
