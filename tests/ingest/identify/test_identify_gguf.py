"""GGUF rules: the architecture key decides; quant, size and hints come from the header."""

from __future__ import annotations

from identify_support import identify_path

from tests import modelfiles


def test_gguf_quant_precision_and_hints(tmp_path):
    path = modelfiles.write_gguf(
        tmp_path / "whatever.gguf",
        arch="llama",
        name="Llama 3.1 8B Instruct",
        file_type="Q6_K",
        extra_kv={
            "general.size_label": "8B",
            "general.source.huggingface.repository": "meta-llama/Llama-3.1-8B-Instruct",
            "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Llama-3.1-8B",
        },
    )
    _, identity = identify_path(path)
    assert (identity.quant.value, identity.quant.source) == ("Q6_K", "header")
    assert identity.precision.value is None
    assert identity.size_class.value == "8B"
    assert (
        identity.hints["general.source.huggingface.repository"]
        == "meta-llama/Llama-3.1-8B-Instruct"
    )
    assert identity.hints["general.base_model.0.repo_url"].endswith("Llama-3.1-8B")


def test_gguf_unknown_architecture_stays_llm_with_its_name(tmp_path):
    _, identity = identify_path(modelfiles.write_gguf(tmp_path / "m.gguf", arch="zorgnet"))
    assert identity.model_type.value == "llm" and identity.family.value == "zorgnet"
