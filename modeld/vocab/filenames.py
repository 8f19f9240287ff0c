"""What a file's name says it is: weights, a companion, a shard, a diffusers index.

Names only decide grouping (which files travel together as one model); what
a file really holds is decided from its bytes by `ingest.formats`. The
planner, the library, links and the hub all read names with these rules, so
they agree on which file of a model folder is its weights.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

DIFFUSERS_INDEX = "model_index.json"
WEIGHT_EXTENSIONS = frozenset(
    {".safetensors", ".sft", ".gguf", ".ckpt", ".pt", ".pth", ".bin", ".onnx", ".pkl"}
)
COMPANION_EXTENSIONS = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".mp4", ".webm",
        ".yaml", ".yml", ".json", ".txt", ".md", ".info", ".toml", ".sha256",
        ".model", ".tiktoken", ".jinja", ".py", ".msgpack", ".onnx_data", ".html",
    }
)  # fmt: skip
COMPANION_NAMES = frozenset(
    {"license", "readme", "notice", "copying", "use_policy", "acknowledgements"}
)
# stems that say nothing about the model: the folder's name is better
GENERIC_STEMS = frozenset(
    {"model", "pytorch_model", "diffusion_pytorch_model", "consolidated", "adapter_model",
     "weights", "checkpoint", "ggml-model", "tf_model", "flax_model", "open_clip_pytorch_model"}
)  # fmt: skip
SHARD = re.compile(r"^(?P<base>.+)-(?P<index>\d{1,6})-of-(?P<total>\d{1,6})\.(?P<ext>[^.]+)$")
INDEX_SUFFIX = ".index.json"


def is_weights_name(name: str) -> bool:
    return PurePosixPath(name.lower()).suffix in WEIGHT_EXTENSIONS


def is_generic_stem(stem: str) -> bool:
    """'model', 'pytorch_model', ...: names that say nothing about the model."""
    return stem.lower() in GENERIC_STEMS


def is_companion_name(name: str) -> bool:
    lower = name.lower()
    if lower.endswith(INDEX_SUFFIX) or lower.endswith(".onnx.data"):
        return True
    suffix = PurePosixPath(lower).suffix
    if not suffix:
        return lower in COMPANION_NAMES
    return suffix in COMPANION_EXTENSIONS


def candidate_stems(name: str) -> list[str]:
    """'foo.preview.png' → ['foo.preview', 'foo']: the model stems a sidecar may belong to."""
    stems = []
    current = name
    while "." in current[1:]:
        current = current.rsplit(".", 1)[0]
        stems.append(current)
    return stems
