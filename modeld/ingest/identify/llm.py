"""Language models by tensor layout: ``model.layers.*.self_attn``, ``lm_head``,
GPT-2/NeoX/Falcon/Mamba layouts; ``config.json``'s ``model_type`` names the family."""

from __future__ import annotations

from typing import Any

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, SURE, UNKNOWN, Kind, Label
from modeld.ingest.identify.names import name_llm_family

# llama.cpp architecture → family (longest prefix wins)
LLM_FAMILIES = {
    "llama": "llama",
    "mistral": "mistral",
    "mixtral": "mistral",
    "qwen": "qwen",
    "gemma": "gemma",
    "phi": "phi",
    "deepseek": "deepseek",
    "falcon": "falcon",
    "starcoder": "starcoder",
    "mamba": "mamba",
    "rwkv": "rwkv",
    "olmo": "olmo",
    "granite": "granite",
    "internlm": "internlm",
    "chatglm": "glm",
    "glm": "glm",
    "exaone": "exaone",
    "minicpm": "minicpm",
    "baichuan": "baichuan",
    "bloom": "bloom",
    "mpt": "mpt",
    "stablelm": "stablelm",
    "command-r": "command-r",
    "cohere": "command-r",
    "gpt2": "gpt2",
    "gptneox": "gpt-neox",
    "gpt-oss": "gpt-oss",
    "jamba": "jamba",
    "nemotron": "nemotron",
    "smollm": "smollm",
    "hunyuan": "hunyuan",
    "ernie": "ernie",
    "bitnet": "bitnet",
    "arcee": "arcee",
}


def prefix_family(arch: str) -> str | None:
    for prefix in sorted(LLM_FAMILIES, key=len, reverse=True):
        if arch.startswith(prefix):
            return LLM_FAMILIES[prefix]
    return None


def llm(f: Facts, extra: dict[str, Any]) -> Kind | None:
    layout = (
        (f.has_prefix("model.layers.") and f.has(".self_attn.", ".mlp."))
        or f.has_prefix(
            "lm_head.", "model.embed_tokens.", "gpt_neox.", "transformer.h.", "backbone.layers."
        )
        or (f.has_prefix("layers.") and f.has(".attention.wq."))
    )
    if not layout:
        return None
    kind = Label("llm", "header", SURE)
    model_type = str(f.config.get("model_type", "")).lower()
    if model_type:
        family = prefix_family(model_type.replace("_", "-")) or model_type
        return kind, Label(family, "metadata", 0.9)
    structural = _llm_structure(f)
    if structural == "llama":
        # llama, mistral and others share this layout: a name may tell them apart
        named = name_llm_family(f"{f.unit_name} {f.file_name}")
        if named and named != "llama":
            return kind, Label(named, "name", 0.6)
        return kind, Label("llama", "header", 0.6)
    if structural:
        return kind, Label(structural, "header", LIKELY)
    return kind, UNKNOWN


def _llm_structure(f: Facts) -> str | None:
    if f.has_prefix("gpt_neox."):
        return "gpt-neox"
    if f.has_prefix("transformer.h.", "h.") and f.has(".attn.c_attn."):
        return "gpt2"
    if f.has("word_embeddings_layernorm"):
        return "bloom"
    if f.has("self_attention.query_key_value"):
        return "falcon"
    if f.has_prefix("backbone.layers."):
        return "mamba"
    if f.has("pre_feedforward_layernorm"):
        return "gemma"
    if f.has("self_attn.qkv_proj") and f.has("gate_up_proj"):
        return "phi"
    if f.has("self_attn.dense.") and f.has("mlp.fc1."):
        return "phi"
    if f.has("block_sparse_moe"):
        return "mistral"
    if f.has("self_attn.q_proj.bias"):
        return "qwen"
    if f.has("self_attn.q_norm."):
        return "qwen"
    if f.has_prefix("model.layers.", "layers."):
        return "llama"
    return None
