"""GGUF files by their ``general.architecture`` key: llama.cpp LLMs and adapters,
city96-style diffusion GGUFs, CLIP/mmproj and text-encoder GGUFs."""

from __future__ import annotations

from typing import Any

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, METADATA, SURE, UNKNOWN, Kind, Label
from modeld.ingest.identify.llm import prefix_family
from modeld.ingest.identify.names import name_llm_family

DIFFUSION_GGUF = {
    "flux": "flux",
    "sd1": "sd15",
    "sdxl": "sdxl",
    "sd3": "sd3",
    "aura": "auraflow",
    "ltxv": "ltxv",
    "hyvid": "hunyuan-video",
    "wan": "wan",
    "hidream": "hidream",
    "cosmos": "cosmos",
    "lumina2": "lumina",
    "chroma": "chroma",
    "qwen_image": "qwen-image",
}
TEXT_ENCODER_GGUF = ("t5encoder", "bert", "nomic-bert", "jina-bert", "xlm-roberta", "modern-bert")


def gguf_kind(facts: Facts, extra: dict[str, Any]) -> Kind:
    arch = str(facts.kv.get("general.architecture", "")).lower()
    extra["architecture"] = arch or None
    general_type = str(facts.kv.get("general.type", "")).lower()
    if not arch:
        return Label("llm", "default", 0.3), UNKNOWN
    if general_type == "adapter" or str(facts.kv.get("adapter.type", "")) == "lora":
        return Label("lora", "header", SURE), _llm_family_label(arch, facts)
    if arch in DIFFUSION_GGUF:
        return Label("diffusion_model", "header", SURE), Label(DIFFUSION_GGUF[arch], "header", SURE)
    if arch == "clip" or general_type == "mmproj":
        if facts.kv.get("clip.has_text_encoder") and not facts.kv.get("clip.has_vision_encoder"):
            return Label("text_encoder", "header", SURE), Label("clip", "header", LIKELY)
        return Label("clip_vision", "header", SURE), Label("clip", "header", LIKELY)
    if arch.startswith(TEXT_ENCODER_GGUF) or (
        arch == "t5" and not any(n.startswith("dec.") for n in facts.names)
    ):
        family = "t5" if arch.startswith("t5") else arch
        return Label("text_encoder", "header", SURE), Label(family, "header", SURE)
    return Label("llm", "header", SURE), _llm_family_label(arch, facts)


def _llm_family_label(arch: str, facts: Facts) -> Label:
    family = prefix_family(arch)
    if family == "llama":
        # Mistral and Mixtral GGUFs are written with the llama architecture
        title = " ".join(str(facts.kv.get(k, "")) for k in ("general.name", "general.basename"))
        named = name_llm_family(title)
        if named and named != "llama":
            return Label(named, "metadata", METADATA)
    if family is None:
        return Label(arch, "header", LIKELY)
    return Label(family, "header", SURE)
