"""Diffusers folders by ``model_index.json``'s pipeline class; sd2 is told apart from
sd15 by the UNet's context width."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modeld.ingest.identify.facts import Tensor
from modeld.ingest.identify.labels import SURE, UNKNOWN, Kind, Label

PIPELINE_FAMILIES = (
    ("StableDiffusionXL", "sdxl"),
    ("StableDiffusion3", "sd3"),
    ("StableDiffusion", "sd15"),  # sd2 told apart by the UNet's context width
    ("Flux", "flux"),
    ("Wan", "wan"),
    ("HunyuanVideo", "hunyuan-video"),
    ("PixArt", "pixart"),
    ("Kandinsky", "kandinsky"),
    ("StableCascade", "stable-cascade"),
    ("Sana", "sana"),
    ("Lumina", "lumina"),
    ("AuraFlow", "auraflow"),
    ("CogVideoX", "cogvideox"),
    ("LTX", "ltxv"),
    ("QwenImage", "qwen-image"),
    ("HiDream", "hidream"),
)


def diffusers_kind(details: Mapping[str, Any], extra: dict[str, Any]) -> Kind:
    pipeline = str(details.get("pipeline", {}).get("_class_name", ""))
    extra["pipeline"] = pipeline
    model_type = Label("diffusers", "header", SURE)
    family = next((f for prefix, f in PIPELINE_FAMILIES if pipeline.startswith(prefix)), None)
    if family is None:
        return model_type, UNKNOWN
    if family == "sd15":
        unet = details.get("components", {}).get("unet", {})
        ctx = (unet.get("config") or {}).get("cross_attention_dim")
        if not isinstance(ctx, int):
            shapes = {t[0]: t[2] for t in unet.get("tensors", ())}
            ctx = next(
                (s[1] for n, s in shapes.items() if n.endswith("attn2.to_k.weight") and len(s) > 1),
                None,
            )
        extra["context_dim"] = ctx
        if ctx == 1024:
            return model_type, Label("sd2", "metadata", SURE)
    return model_type, Label(family, "metadata", SURE)


def denoiser_tensors(details: Mapping[str, Any]) -> Sequence[Tensor]:
    components = details.get("components", {})
    for key in ("transformer", "unet", "prior", "decoder"):
        tensors: Sequence[Tensor] = components.get(key, {}).get("tensors") or ()
        if tensors:
            return tensors
    return ()
