"""CLIP-style encoders: vision towers (``vision_model.encoder`` / open_clip ``visual.*``,
SigLIP) and text encoders (CLIP ``text_model.encoder``, T5/UMT5 encoders); the hidden
width names the variant."""

from __future__ import annotations

from typing import Any

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, SURE, UNKNOWN, Kind, Label

CLIP_VISION_WIDTHS = {
    768: "clip_vit_b",
    1024: "clip_vit_l",
    1280: "clip_vit_h",
    1664: "clip_vit_bigg",
}
CLIP_TEXT_WIDTHS = {768: "clip_l", 1024: "clip_h", 1280: "clip_g"}


def clip_vision(f: Facts, extra: dict[str, Any]) -> Kind | None:
    if not (
        f.has_prefix("vision_model.encoder.layers.")
        or f.has_prefix("visual.transformer.resblocks.")
    ):
        return None
    kind = Label("clip_vision", "header", SURE)
    if f.has_prefix("vision_model.head."):
        return kind, Label("siglip", "header", LIKELY)
    width = f.width("vision_model.embeddings.class_embedding", 0) or f.width(
        "vision_model.embeddings.patch_embedding.weight", 0
    )
    extra["hidden_size"] = width
    family = CLIP_VISION_WIDTHS.get(width or 0)
    return kind, Label(family, "header", LIKELY) if family else UNKNOWN


def text_encoder(f: Facts, extra: dict[str, Any]) -> Kind | None:
    kind = Label("text_encoder", "header", SURE)
    if f.has("text_model.encoder.layers.") and not f.has_prefix("model.diffusion_model."):
        width = f.width("embeddings.token_embedding.weight") or f.width(
            "final_layer_norm.weight", 0
        )
        extra["hidden_size"] = width
        family = CLIP_TEXT_WIDTHS.get(width or 0)
        return kind, Label(family, "header", LIKELY) if family else UNKNOWN
    if f.has_prefix("encoder.block.") and not f.has_prefix("decoder.block."):
        family = "umt5" if f.count("relative_attention_bias") > 1 else "t5"
        return kind, Label(family, "header", LIKELY)
    return None
