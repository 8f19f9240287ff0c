"""Name rules for the Hub: variant tokens stripped, names compared."""

from __future__ import annotations

import pytest

from modeld.hub.names import name_similarity, strip_variant


@pytest.mark.parametrize(
    ("stem", "stripped"),
    [
        ("Meta-Llama-3-8B-Instruct.Q4_K_M", "Meta-Llama-3-8B-Instruct"),
        ("qwen2.5-0.5b-instruct-q8_0", "qwen2.5-0.5b-instruct"),
        ("Mistral-7B-Instruct-v0.3.IQ3_XS", "Mistral-7B-Instruct-v0.3"),
        ("flux1-dev-fp8_e4m3fn", "flux1-dev"),
        ("model-00001-of-00004", "model"),
        ("llama-3-8b-instruct-bf16", "llama-3-8b-instruct"),
        ("sd_xl_base_1.0", "sd_xl_base_1.0"),
        ("Phi-3-mini-4k-instruct-gguf", "Phi-3-mini-4k-instruct"),
    ],
)
def test_strip_variant(stem, stripped):
    assert strip_variant(stem) == stripped


def test_name_similarity():
    assert (
        name_similarity(
            "Meta-Llama-3-8B-Instruct.Q4_K_M.gguf", "bartowski/Meta-Llama-3-8B-Instruct-GGUF"
        )
        == 1.0
    )
    assert name_similarity("Juggernaut-XL-v9.safetensors", "RunDiffusion/Juggernaut-XL-v9") == 1.0
    assert name_similarity("Juggernaut-XL-v9.safetensors", "someone/totally-different") < 0.6
