"""LoRAs and LyCORIS adapters: ``lora_up/lora_down``, ``lora_A/lora_B``, ``hada_*``,
``lokr_*``, OFT, PEFT.

The base comes from the keys (``double_blocks`` → flux, ``lora_te1_/lora_te2_`` →
sdxl) and from ranks: the input width of an ``attn2.to_k`` down-projection is the
text context (768 sd15, 1024 sd2, 2048 sdxl). A PEFT adapter on an LLM names its
base in ``adapter_config.json``.
"""

from __future__ import annotations

from typing import Any

from modeld.ingest.identify.diffusion import CONTEXT_FAMILIES
from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, METADATA, SURE, UNKNOWN, Kind, Label
from modeld.ingest.identify.names import name_llm_family

LORA_MARKERS = (
    ".lora_down.",
    ".lora_up.",
    ".lora_A.",
    ".lora_B.",
    ".lora.down.",
    ".lora.up.",
    ".hada_w1_a",
    ".hada_w2_b",
    ".lokr_w1",
    ".lokr_w2",
    ".oft_blocks",
    ".lora_mid.",
    ".diff_b",
)


def lora(f: Facts, extra: dict[str, Any]) -> Kind | None:
    if not (
        f.has(*LORA_MARKERS) or f.has_prefix("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_")
    ):
        return None
    if f.has(".hada_w1_a", ".hada_w2_b"):
        extra["lora_style"] = "loha"
    elif f.has(".lokr_w1", ".lokr_w2"):
        extra["lora_style"] = "lokr"
    elif f.has("_conv1.lora_down", "_conv2.lora_down", "_conv.lora_down", "conv_in.lora_down"):
        extra["lora_style"] = "locon"
    else:
        extra["lora_style"] = "lora"
    kind = Label("lora", "header", SURE)
    if f.has("double_blocks", "single_blocks", "single_transformer_blocks"):
        return kind, Label("flux", "header", SURE)
    if f.has("joint_blocks"):
        return kind, Label("sd3", "header", SURE)
    if f.has_prefix("lora_te1_", "lora_te2_"):
        return kind, Label("sdxl", "header", SURE)
    # the input width of a cross-attention key projection is the text context width
    for name, shape in f.shapes.items():
        if ("attn2_to_k" in name or "attn2.to_k" in name) and _is_down(name) and len(shape) >= 2:
            extra["context_dim"] = shape[1]
            if shape[1] in CONTEXT_FAMILIES:
                return kind, Label(CONTEXT_FAMILIES[shape[1]], "header", LIKELY)
    if f.has_prefix("lora_te_"):
        width = next(
            (
                s[1]
                for n, s in f.shapes.items()
                if n.startswith("lora_te_") and _is_down(n) and len(s) >= 2
            ),
            None,
        )
        if width == 768:
            return kind, Label("sd15", "header", LIKELY)
        if width == 1024:
            return kind, Label("sd2", "header", LIKELY)
    if f.has("transformer_blocks") and f.has("add_k_proj", "add_q_proj"):
        width = next((s[1] for n, s in f.shapes.items() if _is_down(n) and len(s) >= 2), None)
        if width == 3072:
            return kind, Label("flux", "header", LIKELY)
        if width in (1536, 2432):
            return kind, Label("sd3", "header", LIKELY)
    if f.has("self_attn", "mlp.") and f.has("layers."):
        extra["lora_target"] = "llm"
        base = str(f.adapter_config.get("base_model_name_or_path", ""))
        if named := name_llm_family(base):
            return kind, Label(named, "metadata", METADATA)
    return kind, UNKNOWN


def _is_down(name: str) -> bool:
    return any(
        m in name for m in (".lora_down.", ".lora_A.", ".lora.down.", ".hada_w1_b", ".hada_w2_b")
    )
