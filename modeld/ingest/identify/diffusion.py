"""Diffusion UNets and transformers by tensor keys: whole checkpoints, the denoiser
alone, and ControlNets (a copy of the UNet's encoder).

A checkpoint is ``model.diffusion_model.*`` with a VAE or text encoder beside it:
``conditioner.embedders.*`` → sdxl, ``cond_stage_model.transformer.*`` → sd15,
``cond_stage_model.model.*`` → sd2, ``joint_blocks`` → sd3, ``double_blocks`` → flux.
Otherwise the cross-attention key projection's input width is the text context
width, which names the family.
"""

from __future__ import annotations

from typing import Any

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, SURE, UNKNOWN, Kind, Label

UNET_PREFIX = "model.diffusion_model."
CONTEXT_FAMILIES = {768: "sd15", 1024: "sd2", 2048: "sdxl", 1280: "sdxl"}


def controlnet(f: Facts, extra: dict[str, Any]) -> Kind | None:
    if not (
        f.has_prefix("control_model.", "controlnet_")
        or f.has(
            "input_hint_block",
            "controlnet_cond_embedding",
            "controlnet_blocks",
            "controlnet_down_blocks",
        )
    ):
        return None
    kind = Label("controlnet", "header", SURE)
    if f.has("double_blocks", "single_transformer_blocks", "single_blocks"):
        return kind, Label("flux", "header", LIKELY)
    return kind, _unet_family(f, extra) or UNKNOWN


def _unet_family(f: Facts, extra: dict[str, Any]) -> Label | None:
    if f.has("label_emb.") and f.has("input_blocks."):
        extra["context_dim"] = f.width("attn2.to_k.weight")
        return Label("sdxl", "header", LIKELY)
    ctx = f.width("attn2.to_k.weight")
    if ctx is None:
        return None
    extra["context_dim"] = ctx
    family = CONTEXT_FAMILIES.get(ctx)
    return Label(family, "header", LIKELY) if family else None


def checkpoint(f: Facts, extra: dict[str, Any]) -> Kind | None:
    if not f.has_prefix(UNET_PREFIX):
        return None
    if not f.has_prefix(
        "first_stage_model.", "cond_stage_model.", "conditioner.", "text_encoders.", "vae."
    ):
        return None
    kind = Label("checkpoint", "header", SURE)
    if f.has_prefix("model.diffusion_model.double_blocks."):
        return kind, Label("flux", "header", SURE)
    if f.has_prefix("model.diffusion_model.joint_blocks."):
        return kind, Label("sd3", "header", SURE)
    if f.has_prefix("conditioner.embedders."):
        return kind, Label("sdxl", "header", SURE)
    if f.has_prefix("cond_stage_model.transformer."):
        return kind, Label("sd15", "header", SURE)
    if f.has_prefix("cond_stage_model.model."):
        return kind, Label("sd2", "header", SURE)
    return kind, _unet_family(f, extra) or UNKNOWN


def denoiser(f: Facts, extra: dict[str, Any]) -> Kind | None:
    """The UNet or transformer alone: the same markers as a checkpoint, no VAE or TE."""
    kind = Label("diffusion_model", "header", SURE)
    if f.has("double_blocks.") and f.has("single_blocks."):
        return kind, Label("flux", "header", SURE)
    if f.has("single_transformer_blocks.") and f.has("transformer_blocks."):
        return kind, Label("flux", "header", SURE)
    if f.has("joint_blocks."):
        return kind, Label("sd3", "header", SURE)
    if (
        f.has_prefix("transformer_blocks.")
        and f.has_prefix("context_embedder.")
        and f.has_prefix("pos_embed.")
    ):
        return kind, Label("sd3", "header", LIKELY)
    ldm_unet = f.has("input_blocks.") and f.has("middle_block.") and f.has("output_blocks.")
    diffusers_unet = (
        f.has_prefix("down_blocks.")
        and f.has_prefix("mid_block.", "up_blocks.")
        and f.has_prefix("time_embedding.")
    )
    if ldm_unet or diffusers_unet:
        return kind, _unet_family(f, extra) or UNKNOWN
    return None
