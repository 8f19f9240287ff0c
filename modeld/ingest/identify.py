"""What a model is: type, family, precision, quant, size (pure functions).

Each label records where it came from (`header`: tensor names, shapes,
dtypes, GGUF keys; `metadata`: free-form header metadata, config.json,
model_index.json; `name`: the file or folder name; `default`) and how sure it
is, so later stages (and users) can tell a fact from a guess. Tensor names
and shapes decide wherever they can; metadata fills gaps; names come last.

The signatures used, by model type:
- lora: ``lora_up/lora_down``, ``lora_A/lora_B``, LyCORIS ``hada_*``,
  ``lokr_*``; the base comes from the keys (``double_blocks`` → flux,
  ``lora_te1_/lora_te2_`` → sdxl) and ranks (the input width of an
  ``attn2.to_k`` down-projection is the text context: 768 sd15, 1024 sd2,
  2048 sdxl);
- checkpoint: ``model.diffusion_model.*`` with a VAE or text encoder beside
  it: ``conditioner.embedders.*`` → sdxl, ``cond_stage_model.transformer.*``
  → sd15, ``cond_stage_model.model.*`` → sd2, ``joint_blocks`` → sd3,
  ``double_blocks`` → flux;
- diffusion_model: the UNet or transformer alone (same markers, no VAE/TE);
- vae: ``encoder.down*``/``decoder.up*`` only (latent channels from
  ``decoder.conv_in``);
- controlnet: ``control_model.*``, ``input_hint_block``, ``controlnet_*``;
- embedding: ``emb_params``, ``clip_l``+``clip_g``, ``string_to_param``;
- upscaler: ESRGAN/Real-ESRGAN (``conv_first`` + ``RRDB_trunk``/``body``), SwinIR;
- text_encoder: ``text_model.encoder`` (CLIP width → clip_l/clip_h/clip_g), T5 encoders;
- clip_vision: ``vision_model.encoder`` / open_clip ``visual.*``;
- llm: ``model.layers.*.self_attn``, ``lm_head``, GPT-2/NeoX/Falcon layouts, GGUF.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from modeld.ingest.formats import Sniffed
from modeld.ingest.units import ImportUnit


@dataclass(frozen=True)
class Label:
    value: str | None
    source: str  # header | metadata | name | default
    confidence: float


@dataclass(frozen=True)
class Identity:
    model_type: Label
    family: Label
    precision: Label
    quant: Label
    params: int | None = None
    size_class: Label | None = None
    # clues for the Hugging Face lookup: repo names, base models, titles
    hints: dict[str, str] = field(default_factory=dict)
    # what the rules saw: architecture, context width, LoRA style, ...
    extra: dict[str, Any] = field(default_factory=dict)

    def labels(self) -> dict[str, Any]:
        return {
            "model_type": asdict(self.model_type),
            "family": asdict(self.family),
            "precision": asdict(self.precision),
            "quant": asdict(self.quant),
            "params": self.params,
            "size_class": asdict(self.size_class) if self.size_class else None,
            "hints": dict(self.hints),
            "evidence": dict(self.extra),
        }


_UNKNOWN = Label("unknown", "default", 0.0)
_NONE = Label(None, "default", 0.0)

SURE = 0.95  # a signature only this kind of model has
LIKELY = 0.85  # a width or layout that points one way
METADATA = 0.8
NAME = 0.5

Tensor = tuple[str, str, tuple[int, ...]]


# -- the facts the rules read -------------------------------------------------


@dataclass(frozen=True)
class Facts:
    format: str
    names: tuple[str, ...]  # tensor names (or, for pickles, strings found in the opcodes)
    shapes: Mapping[str, tuple[int, ...]]
    dtypes: Mapping[str, int]  # dtype → element count
    metadata: Mapping[str, str]
    kv: Mapping[str, Any]
    config: Mapping[str, Any]
    adapter_config: Mapping[str, Any]
    file_name: str
    unit_name: str

    def has_prefix(self, *prefixes: str) -> bool:
        return any(n.startswith(prefixes) for n in self.names)

    def has(self, *parts: str) -> bool:
        return any(part in n for n in self.names for part in parts)

    def count(self, part: str) -> int:
        return sum(part in n for n in self.names)

    def width(self, suffix: str, axis: int = 1) -> int | None:
        """A dimension of the first tensor whose name ends with `suffix`."""
        for name, shape in self.shapes.items():
            if name.endswith(suffix) and len(shape) > axis:
                return shape[axis]
        return None


def facts_of(unit: ImportUnit, sniffed: Sniffed) -> Facts:
    details = sniffed.details
    tensors: Sequence[Tensor] = details.get("tensors", ())
    names = tuple(t[0] for t in tensors) or tuple(details.get("names", ()))
    shapes = {t[0]: tuple(t[2]) for t in tensors}
    return Facts(
        format=sniffed.format,
        names=names,
        shapes=shapes,
        dtypes=_dtype_counts(tensors, details.get("storages", {})),
        metadata=details.get("metadata") or {},
        kv=details.get("kv") or {},
        config=details.get("config") or {},
        adapter_config=details.get("adapter_config") or {},
        file_name=unit.primary.name,
        unit_name=unit.name,
    )


# -- entry point ----------------------------------------------------------------


def identify(unit: ImportUnit, sniffed: Sniffed) -> Identity:
    facts = facts_of(unit, sniffed)
    extra: dict[str, Any] = {}
    if sniffed.format == "gguf":
        model_type, family = _gguf_kind(facts, extra)
    elif sniffed.format == "diffusers":
        model_type, family = _diffusers_kind(sniffed.details, extra)
        # precision follows the denoiser, not the text encoders around it
        denoiser = _denoiser_tensors(sniffed.details)
        if denoiser:
            facts = replace(facts, dtypes=_dtype_counts(denoiser))
    else:
        model_type, family = _tensor_kind(facts, extra)
        if model_type.value == "checkpoint":
            # an fp8 checkpoint often carries its VAE and text encoders in bf16
            unet = [t for t in sniffed.details.get("tensors", ()) if t[0].startswith(UNET_PREFIX)]
            # a pickle's storages cannot be split by tensor, so they all count
            facts = replace(facts, dtypes=_dtype_counts(unet, sniffed.details.get("storages", {})))
    if model_type.value == "unknown":
        model_type = _type_from_name(facts) or model_type
    if family.value == "unknown":
        llm_like = model_type.value == "llm" or extra.get("lora_target") == "llm"
        family = _family_from_metadata(facts) or _family_from_name(facts, llm_like) or family
    precision, quant = _precision_and_quant(facts)
    params = _params(sniffed)
    return Identity(
        model_type=model_type,
        family=family,
        precision=precision,
        quant=quant,
        params=params,
        size_class=_size_class(facts, params),
        hints=_hints(facts),
        extra=extra,
    )


UNET_PREFIX = "model.diffusion_model."


def _dtype_counts(
    tensors: Iterable[Tensor], storages: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Elements per dtype; a pickle's storage counts add in (0 still records the dtype)."""
    dtypes: Counter[str] = Counter()
    for _name, dtype, shape in tensors:
        dtypes[dtype] += math.prod(shape)
    for dtype, count in (storages or {}).items():
        dtypes[dtype] += count
    return dict(dtypes)


# -- GGUF -------------------------------------------------------------------------

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
TEXT_ENCODER_GGUF = ("t5encoder", "bert", "nomic-bert", "jina-bert", "xlm-roberta", "modern-bert")

# llama_ftype → quant name (general.file_type)
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
}
FLOAT_QUANTS = {"F32": "fp32", "F16": "fp16", "BF16": "bf16"}


def _gguf_kind(facts: Facts, extra: dict[str, Any]) -> tuple[Label, Label]:
    arch = str(facts.kv.get("general.architecture", "")).lower()
    extra["architecture"] = arch or None
    general_type = str(facts.kv.get("general.type", "")).lower()
    if not arch:
        return Label("llm", "default", 0.3), _UNKNOWN
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
    family = _prefix_family(arch)
    if family == "llama":
        # Mistral and Mixtral GGUFs are written with the llama architecture
        title = " ".join(str(facts.kv.get(k, "")) for k in ("general.name", "general.basename"))
        named = _name_llm_family(title)
        if named and named != "llama":
            return Label(named, "metadata", METADATA)
    if family is None:
        return Label(arch, "header", LIKELY)
    return Label(family, "header", SURE)


def _prefix_family(arch: str) -> str | None:
    for prefix in sorted(LLM_FAMILIES, key=len, reverse=True):
        if arch.startswith(prefix):
            return LLM_FAMILIES[prefix]
    return None


# -- diffusers --------------------------------------------------------------------

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


def _diffusers_kind(details: Mapping[str, Any], extra: dict[str, Any]) -> tuple[Label, Label]:
    pipeline = str(details.get("pipeline", {}).get("_class_name", ""))
    extra["pipeline"] = pipeline
    model_type = Label("diffusers", "header", SURE)
    family = next((f for prefix, f in PIPELINE_FAMILIES if pipeline.startswith(prefix)), None)
    if family is None:
        return model_type, _UNKNOWN
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


def _denoiser_tensors(details: Mapping[str, Any]) -> Sequence[Tensor]:
    components = details.get("components", {})
    for key in ("transformer", "unet", "prior", "decoder"):
        tensors = components.get(key, {}).get("tensors")
        if tensors:
            return tensors
    return ()


# -- tensor names (safetensors, pickles) ----------------------------------------

CONTEXT_FAMILIES = {768: "sd15", 1024: "sd2", 2048: "sdxl", 1280: "sdxl"}
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


def _tensor_kind(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label]:
    for rule in (
        _lora,
        _embedding,
        _controlnet,
        _checkpoint,
        _denoiser,
        _vae,
        _upscaler,
        _clip_vision,
        _text_encoder,
        _llm,
    ):
        found = rule(f, extra)
        if found is not None:
            return found
    return _UNKNOWN, _UNKNOWN


def _lora(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
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
        if named := _name_llm_family(base):
            return kind, Label(named, "metadata", METADATA)
    return kind, _UNKNOWN


def _is_down(name: str) -> bool:
    return any(
        m in name for m in (".lora_down.", ".lora_A.", ".lora.down.", ".hada_w1_b", ".hada_w2_b")
    )


EMBEDDING_KEYS = frozenset({"emb_params", "clip_l", "clip_g"})


def _embedding(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
    kind = Label("embedding", "header", SURE)
    if f.format == "pickle":
        if "string_to_param" in f.names:
            return kind, _UNKNOWN
        return None
    if not f.names or len(f.names) > 4 or not set(f.names) <= EMBEDDING_KEYS:
        return None
    if {"clip_l", "clip_g"} <= set(f.names):
        return kind, Label("sdxl", "header", SURE)
    width = f.width("emb_params")
    extra["context_dim"] = width
    family = {768: "sd15", 1024: "sd2"}.get(width or 0)
    return kind, Label(family, "header", LIKELY) if family else _UNKNOWN


def _controlnet(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
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
    return kind, _unet_family(f, extra) or _UNKNOWN


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


def _checkpoint(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
    if not f.has_prefix("model.diffusion_model."):
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
    return kind, _unet_family(f, extra) or _UNKNOWN


def _denoiser(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
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
        return kind, _unet_family(f, extra) or _UNKNOWN
    return None


def _vae(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
    stripped = _strip(f.names, ("first_stage_model.", "vae."))
    ldm = any(n.startswith("encoder.down.") for n in stripped) and any(
        n.startswith("decoder.up.") for n in stripped
    )
    diffusers = any(n.startswith("encoder.down_blocks.") for n in stripped) and any(
        n.startswith("decoder.up_blocks.") for n in stripped
    )
    if not (ldm or diffusers):
        return None
    if not all(
        n.startswith(("encoder.", "decoder.", "quant_conv", "post_quant_conv")) for n in stripped
    ):
        return None
    latent = next(
        (s[1] for n, s in f.shapes.items() if n.endswith("decoder.conv_in.weight") and len(s) > 1),
        None,
    )
    extra["latent_channels"] = latent
    # 4-channel VAEs are shared by sd15/sd2/sdxl and 16-channel ones by sd3/flux:
    # the shapes cannot tell them apart, so metadata or the name decides
    return Label("vae", "header", SURE), _UNKNOWN


def _strip(names: Iterable[str], prefixes: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        for prefix in prefixes:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        out.append(name)
    return out


def _upscaler(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
    kind = Label("upscaler", "header", SURE)
    if f.has_prefix("conv_first.") and f.has_prefix("RRDB_trunk.", "body.", "trunk_conv."):
        return kind, Label("esrgan", "header", SURE)
    if f.has_prefix("model.0.weight") and f.has(".sub.") and f.has("RDB"):
        return kind, Label("esrgan", "header", SURE)
    if f.has("residual_group") and f.has_prefix("conv_after_body", "conv_first."):
        return kind, Label("swinir", "header", LIKELY)
    return None


CLIP_VISION_WIDTHS = {
    768: "clip_vit_b",
    1024: "clip_vit_l",
    1280: "clip_vit_h",
    1664: "clip_vit_bigg",
}
CLIP_TEXT_WIDTHS = {768: "clip_l", 1024: "clip_h", 1280: "clip_g"}


def _clip_vision(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
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
    return kind, Label(family, "header", LIKELY) if family else _UNKNOWN


def _text_encoder(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
    kind = Label("text_encoder", "header", SURE)
    if f.has("text_model.encoder.layers.") and not f.has_prefix("model.diffusion_model."):
        width = f.width("embeddings.token_embedding.weight") or f.width(
            "final_layer_norm.weight", 0
        )
        extra["hidden_size"] = width
        family = CLIP_TEXT_WIDTHS.get(width or 0)
        return kind, Label(family, "header", LIKELY) if family else _UNKNOWN
    if f.has_prefix("encoder.block.") and not f.has_prefix("decoder.block."):
        family = "umt5" if f.count("relative_attention_bias") > 1 else "t5"
        return kind, Label(family, "header", LIKELY)
    return None


def _llm(f: Facts, extra: dict[str, Any]) -> tuple[Label, Label] | None:
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
        family = _prefix_family(model_type.replace("_", "-")) or model_type
        return kind, Label(family, "metadata", 0.9)
    structural = _llm_structure(f)
    if structural == "llama":
        # llama, mistral and others share this layout: a name may tell them apart
        named = _name_llm_family(f"{f.unit_name} {f.file_name}")
        if named and named != "llama":
            return kind, Label(named, "name", 0.6)
        return kind, Label("llama", "header", 0.6)
    if structural:
        return kind, Label(structural, "header", LIKELY)
    return kind, _UNKNOWN


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


# -- names and metadata -------------------------------------------------------------

_TYPE_WORDS = (
    (re.compile(r"lora|lycoris|locon|loha|lokr", re.I), "lora"),
    (re.compile(r"controlnet|control[-_]|t2i[-_]?adapter", re.I), "controlnet"),
    (re.compile(r"(?<![a-z])vae(?![a-z])|(?<![a-z])ae\.", re.I), "vae"),
    (
        re.compile(r"esrgan|upscal|(?<![a-z0-9])[248]x[-_]|swinir|(?<![a-z])dat(?![a-z])", re.I),
        "upscaler",
    ),
    (re.compile(r"clip[-_]?vision|image[-_]?encoder|clip[-_]vit", re.I), "clip_vision"),
    (
        re.compile(r"text[-_]?encoder|(?<![a-z])t5|umt5|clip[-_]?[lg](?![a-z])", re.I),
        "text_encoder",
    ),
    (re.compile(r"embedding|textual[-_]?inversion", re.I), "embedding"),
)


def _first_match(table: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str | None:
    """The value of the first (pattern, value) row whose pattern occurs in `text`."""
    return next((value for pattern, value in table if pattern.search(text)), None)


def _type_from_name(f: Facts) -> Label | None:
    model_type = _first_match(_TYPE_WORDS, f"{f.unit_name} {f.file_name}")
    return Label(model_type, "name", 0.4) if model_type else None


_DIFFUSION_NAME_FAMILIES = (
    (re.compile(r"sd[-_ .]?xl|(?<![a-z])xl(?![a-z])|pony|illustrious|noobai", re.I), "sdxl"),
    (re.compile(r"sd[-_ .]?3|stable[-_ ]diffusion[-_ ]3", re.I), "sd3"),
    (re.compile(r"flux", re.I), "flux"),
    (re.compile(r"sd[-_ .]?1[-_ .]?5|sd[-_ .]?15|v1[-_.]5|sd[-_ .]?1[-_ .]?4", re.I), "sd15"),
    (re.compile(r"sd[-_ .]?2(?:[-_ .]?1)?(?![0-9])|v2[-_.]1", re.I), "sd2"),
)
_LLM_NAME_FAMILIES = (
    (re.compile(r"mi[sx]tral|codestral|ministral", re.I), "mistral"),
    (re.compile(r"llama", re.I), "llama"),
    (re.compile(r"qwen|qwq", re.I), "qwen"),
    (re.compile(r"gemma", re.I), "gemma"),
    (re.compile(r"(?<![a-z])phi[-_ ]?\d", re.I), "phi"),
    (re.compile(r"deepseek", re.I), "deepseek"),
    (re.compile(r"falcon", re.I), "falcon"),
    (re.compile(r"granite", re.I), "granite"),
)


def _name_llm_family(text: str) -> str | None:
    return _first_match(_LLM_NAME_FAMILIES, text)


def _family_from_name(f: Facts, llm_like: bool) -> Label | None:
    families = _LLM_NAME_FAMILIES if llm_like else _DIFFUSION_NAME_FAMILIES
    family = _first_match(families, f"{f.unit_name} {f.file_name}")
    return Label(family, "name", 0.4) if family else None


# kohya's ss_base_model_version and modelspec.architecture values
_METADATA_FAMILIES = (
    (re.compile(r"sdxl|stable-diffusion-xl", re.I), "sdxl"),
    (re.compile(r"sd3|stable-diffusion-3", re.I), "sd3"),
    (re.compile(r"flux", re.I), "flux"),
    (re.compile(r"sd_v1|stable-diffusion-v1", re.I), "sd15"),
    (re.compile(r"sd_v2|sd_2|stable-diffusion-v2", re.I), "sd2"),
)


def _family_from_metadata(f: Facts) -> Label | None:
    for key in ("modelspec.architecture", "ss_base_model_version"):
        family = _first_match(_METADATA_FAMILIES, f.metadata.get(key) or "")
        if family:
            return Label(family, "metadata", METADATA)
    if f.metadata.get("ss_v2") == "True":
        return Label("sd2", "metadata", METADATA)
    return None


# -- precision, quant, size -----------------------------------------------------------

DTYPE_PRECISION = {
    "F16": "fp16",
    "BF16": "bf16",
    "F32": "fp32",
    "F8_E4M3": "fp8",
    "F8_E5M2": "fp8",
}
_QUANT = re.compile(
    r"(?<![a-z0-9])(i?q[1-8](?:_[0-9kslmx]+)*|tq[12]_0|mxfp4(?:_moe)?|nf4|gptq|awq|exl2|int[48])(?![a-z0-9])",
    re.IGNORECASE,
)
_NAME_PRECISION = re.compile(r"(?<![a-z0-9])(fp16|bf16|fp32|fp8|f16|f32|half)(?![a-z0-9])", re.I)
_NAME_PRECISION_MAP = {
    "fp16": "fp16",
    "f16": "fp16",
    "half": "fp16",
    "bf16": "bf16",
    "fp32": "fp32",
    "f32": "fp32",
    "fp8": "fp8",
}


def _precision_and_quant(f: Facts) -> tuple[Label, Label]:
    name = f"{f.unit_name} {f.file_name}"
    if f.format == "gguf":
        file_type = f.kv.get("general.file_type")
        if isinstance(file_type, int) and file_type in FILE_TYPES:
            quant = FILE_TYPES[file_type]
            if quant in FLOAT_QUANTS:
                return Label(FLOAT_QUANTS[quant], "header", SURE), _NONE
            return _NONE, Label(quant, "header", SURE)
        if match := _QUANT.search(name):
            return _NONE, Label(match.group(1).upper(), "name", 0.6)
        dominant = _dominant(f.dtypes, exclude=("F32",)) or _dominant(f.dtypes)
        if dominant in FLOAT_QUANTS:
            return Label(FLOAT_QUANTS[dominant], "header", LIKELY), _NONE
        return _NONE, Label(dominant, "header", 0.6) if dominant else _NONE

    quant = _NONE
    quant_config = f.config.get("quantization_config")
    if isinstance(quant_config, dict) and quant_config.get("quant_method"):
        quant = Label(str(quant_config["quant_method"]).upper(), "metadata", METADATA)
    elif match := _QUANT.search(name):
        quant = Label(match.group(1).upper(), "name", 0.6)

    floats = {d: n for d, n in f.dtypes.items() if d in DTYPE_PRECISION}
    dominant = _dominant(floats)
    if dominant is not None and sum(floats.values()) >= sum(f.dtypes.values()) / 2:
        return Label(DTYPE_PRECISION[dominant], "header", SURE), quant
    if not f.dtypes and (match := _NAME_PRECISION.search(name)):
        return Label(_NAME_PRECISION_MAP[match.group(1).lower()], "name", NAME), quant
    return _NONE, quant


def _dominant(counts: Mapping[str, int], exclude: tuple[str, ...] = ()) -> str | None:
    kept = {k: v for k, v in counts.items() if k not in exclude}
    if not kept:
        return None
    return max(kept, key=lambda k: (kept[k], k))


def _params(sniffed: Sniffed) -> int | None:
    tensors = sniffed.details.get("tensors")
    if tensors:
        return sum(math.prod(t[2]) for t in tensors)
    storages = sniffed.details.get("storages") or {}
    total = sum(storages.values())
    return total or None


def _size_class(f: Facts, params: int | None) -> Label | None:
    label = f.kv.get("general.size_label")
    if isinstance(label, str) and label:
        return Label(label, "header", SURE)
    if not params:
        return None
    return Label(humanize_params(params), "header", LIKELY)


def humanize_params(count: int) -> str:
    """7_241_732_096 → '7.2B'; 135_000_000 → '135M'."""
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if count >= scale:
            value = count / scale
            text = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
            return f"{text}{unit}"
    return str(count)


_GGUF_HINT_KEYS = (
    "general.name",
    "general.basename",
    "general.finetune",
    "general.organization",
    "general.url",
    "general.repo_url",
    "general.size_label",
    "general.quantized_by",
)


def _hints(f: Facts) -> dict[str, str]:
    hints: dict[str, str] = {}
    for key, value in f.kv.items():
        if key in _GGUF_HINT_KEYS or key.startswith(("general.source.", "general.base_model.")):
            hints[key] = _short(value)
    for key, value in f.metadata.items():
        if (key.startswith("modelspec.") and key != "modelspec.thumbnail") or key in (
            "ss_sd_model_name",
            "ss_base_model_version",
            "ss_output_name",
            "ss_network_module",
        ):
            hints[key] = _short(value)
    for key in ("_name_or_path", "model_type"):
        if f.config.get(key):
            hints[f"config.{key}"] = _short(f.config[key])
    if f.adapter_config.get("base_model_name_or_path"):
        hints["adapter.base_model"] = _short(f.adapter_config["base_model_name_or_path"])
    architectures = f.config.get("architectures")
    if isinstance(architectures, list) and architectures:
        hints["config.architectures"] = _short(",".join(map(str, architectures)))
    return hints


def _short(value: Any, limit: int = 512) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit] + "…"
