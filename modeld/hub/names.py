"""Names on the Hub (pure): what a repo id looks like, which part of a file or model
name is worth a search, and how alike two names are once variant tokens are gone."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from pathlib import PurePosixPath

from modeld.vocab.naming import split_extension

# Repo ids as the Hub validates them: "name" or "namespace/name", 1-96 chars
# each of [A-Za-z0-9._-], not starting or ending with '-' or '.', no "--" or "..".
NAME_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"{NAME_PART}/{NAME_PART}")
_COMMIT = re.compile(r"[0-9a-f]{40}")  # a full commit id, as the Hub names revisions

# Quant, precision and format tokens that variants of one model differ by.
_VARIANT_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"i?q[1-8](?:_[0-9a-z]{1,2}){0,3}"  # Q4_K_M, Q8_0, IQ3_XS, Q4_0_4_4
    r"|bf16|fp16|fp32|f16|f32|fp8(?:_e4m3fn|_e5m2)?(?:_scaled)?|e4m3fn|e5m2"
    r"|int[48]|nf4|[48]bit|gguf|ggml|gptq|awq|exl2|mlx"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SHARD = re.compile(r"[-_.]?\d{1,5}-of-\d{1,5}", re.IGNORECASE)
_SEPARATOR_RUN = re.compile(r"([-_. ])[-_. ]+")

# Names too generic to search for: they name a role, not a model.
_GENERIC_NAMES = frozenset(
    {
        "model",
        "models",
        "pytorch_model",
        "diffusion_pytorch_model",
        "adapter_model",
        "consolidated",
        "ggml-model",
        "unet",
        "vae",
        "text_encoder",
        "text_encoder_2",
        "transformer",
        "lora",
        "checkpoint",
        "weights",
        "embedding",
        "download",
        "file",
        "output",
    }
)


def is_repo_id(text: str) -> bool:
    """A namespaced repo id the Hub would accept ("org/name")."""
    return (
        len(text) <= 193
        and bool(_REPO_ID.fullmatch(text))
        and "--" not in text
        and ".." not in text
        and not text.endswith(".git")
    )


def strip_variant(stem: str) -> str:
    """'Meta-Llama-3-8B-Instruct.Q4_K_M' -> 'Meta-Llama-3-8B-Instruct' (shards, quants, dtypes)."""
    text = _SHARD.sub("", stem)
    text = _VARIANT_TOKEN.sub("", text)
    text = _SEPARATOR_RUN.sub(r"\1", text)
    return text.strip("-_. ")


def search_term(name: str, *, has_extension: bool = True) -> str | None:
    """The part of a file or model name worth searching the Hub for, if any."""
    name = PurePosixPath(name.replace("\\", "/")).name if has_extension else name.strip()
    stem = split_extension(name)[0] if has_extension else name
    term = strip_variant(stem)
    if len(term) < 3 or term.lower() in _GENERIC_NAMES or term.isdigit():
        return None
    return term[:96]


def normalized_name(name: str) -> str:
    """A comparable form of a repo or file name: last path part, no variant tokens or separators."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, ext = split_extension(base)
    if ext.lower() not in {".gguf", ".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".onnx"}:
        stem = base
    return re.sub(r"[^a-z0-9]", "", strip_variant(stem).lower())


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two names after normalisation (difflib ratio)."""
    left, right = normalized_name(a), normalized_name(b)
    if not left or not right:
        return 0.0
    return SequenceMatcher(None, left, right).ratio()


def is_commit(text: str) -> bool:
    """A full commit id: the only revision that pins content (a branch may move)."""
    return bool(_COMMIT.fullmatch(text))
