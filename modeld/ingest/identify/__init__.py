"""What a model is: type, family, precision, quant, size (pure functions).

Each label records where it came from (`header`: tensor names, shapes,
dtypes, GGUF keys; `metadata`: free-form header metadata, config.json,
model_index.json; `name`: the file or folder name; `default`) and how sure it
is, so later stages (and users) can tell a fact from a guess. Tensor names
and shapes decide wherever they can; metadata fills gaps; names come last.

GGUF files are told apart by their architecture key (`gguf`), diffusers
folders by their pipeline class (`diffusers`); every other format goes
through `TENSOR_RULES` below, one module per model type, first match wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from modeld.ingest.formats import Sniffed
from modeld.ingest.identify.clip import clip_vision, text_encoder
from modeld.ingest.identify.diffusers import denoiser_tensors, diffusers_kind
from modeld.ingest.identify.diffusion import UNET_PREFIX, checkpoint, controlnet, denoiser
from modeld.ingest.identify.embedding import embedding
from modeld.ingest.identify.facts import Facts, dtype_counts, facts_of
from modeld.ingest.identify.gguf import gguf_kind
from modeld.ingest.identify.hints import hints_of
from modeld.ingest.identify.labels import UNKNOWN, Identity, Kind, Label
from modeld.ingest.identify.llm import llm
from modeld.ingest.identify.lora import lora
from modeld.ingest.identify.names import family_from_metadata, family_from_name, type_from_name
from modeld.ingest.identify.precision import precision_and_quant
from modeld.ingest.identify.size import humanize_params, params_of, size_class
from modeld.ingest.identify.upscaler import upscaler
from modeld.ingest.identify.vae import vae
from modeld.ingest.units import ImportUnit

__all__ = ["TENSOR_RULES", "Identity", "Label", "humanize_params", "identify"]

Rule = Callable[[Facts, dict[str, Any]], Kind | None]

# Tried in this order on tensor names (safetensors, pickles, ONNX); the first rule
# that recognises the file decides its type and family. The order matters where
# one kind of file contains another's keys:
TENSOR_RULES: tuple[Rule, ...] = (
    lora,  # a LoRA's keys name the very modules the other rules look for
    embedding,
    controlnet,  # a copy of the UNet's encoder, which can pass for a bare denoiser
    checkpoint,  # holds a denoiser, a VAE and text encoders
    denoiser,
    vae,
    upscaler,
    clip_vision,  # a full CLIP model also has a text tower
    text_encoder,
    llm,  # generic `layers.`/`lm_head.` names: the loosest test goes last
)


def identify(unit: ImportUnit, sniffed: Sniffed) -> Identity:
    facts = facts_of(unit, sniffed)
    extra: dict[str, Any] = {}
    if sniffed.format == "gguf":
        model_type, family = gguf_kind(facts, extra)
    elif sniffed.format == "diffusers":
        model_type, family = diffusers_kind(sniffed.details, extra)
        # precision follows the denoiser, not the text encoders around it
        denoiser_only = denoiser_tensors(sniffed.details)
        if denoiser_only:
            facts = replace(facts, dtypes=dtype_counts(denoiser_only))
    else:
        model_type, family = _tensor_kind(facts, extra)
        if model_type.value == "checkpoint":
            # an fp8 checkpoint often carries its VAE and text encoders in bf16
            unet = [t for t in sniffed.details.get("tensors", ()) if t[0].startswith(UNET_PREFIX)]
            # a pickle's storages cannot be split by tensor, so they all count
            facts = replace(facts, dtypes=dtype_counts(unet, sniffed.details.get("storages", {})))
    if model_type.value == "unknown":
        model_type = type_from_name(facts) or model_type
    if family.value == "unknown":
        llm_like = model_type.value == "llm" or extra.get("lora_target") == "llm"
        family = family_from_metadata(facts) or family_from_name(facts, llm_like) or family
    precision, quant = precision_and_quant(facts)
    params = params_of(sniffed)
    return Identity(
        model_type=model_type,
        family=family,
        precision=precision,
        quant=quant,
        params=params,
        size_class=size_class(facts, params),
        hints=hints_of(facts),
        extra=extra,
    )


def _tensor_kind(f: Facts, extra: dict[str, Any]) -> Kind:
    for rule in TENSOR_RULES:
        found = rule(f, extra)
        if found is not None:
            return found
    return UNKNOWN, UNKNOWN
