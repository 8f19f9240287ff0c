"""What a clue is: a repo to ask for, or a term to search, and the source it came
from; sources are ranked, strongest first, the order lookups spend calls in (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Clue kinds
REPO = "repo"  # `value` is a repo id to ask for directly
SEARCH = "search"  # `value` is a search term

# Clue sources, strongest first: the order lookups try them in.
HF_CACHE = "hf_cache"
SIDECAR = "sidecar"
GGUF_SOURCE = "gguf_source"
HEADER_METADATA = "header_metadata"  # safetensors __metadata__, config.json, model_index.json
PATH_LAYOUT = "path_layout"
GGUF_SIBLING = "gguf_sibling"  # "<source repo>-GGUF": where converted GGUFs usually live
BASE_MODEL = "base_model"
FILE_NAME = "file_name"
MODEL_NAME = "model_name"  # the model's human name (a diffusers folder's name)
GGUF_NAME = "gguf_name"
SIDECAR_NAME = "sidecar_name"
FOLDER_NAME = "folder_name"

_SOURCE_ORDER = (
    HF_CACHE,
    SIDECAR,
    GGUF_SOURCE,
    HEADER_METADATA,
    PATH_LAYOUT,
    GGUF_SIBLING,
    BASE_MODEL,
    FILE_NAME,
    MODEL_NAME,
    GGUF_NAME,
    SIDECAR_NAME,
    FOLDER_NAME,
)


@dataclass(frozen=True)
class Clue:
    kind: str  # REPO | SEARCH
    value: str  # a repo id ("org/name") or a search term
    source: str  # one of the source constants above
    revision: str | None = None  # a commit, when the clue pins one (HF cache)
    path: str | None = None  # the file's path inside the repo, when known


def ordered_unique(clues: Iterable[Clue]) -> list[Clue]:
    """One clue per (kind, value), the strongest kept; repos first, then by source."""
    rank = {source: index for index, source in enumerate(_SOURCE_ORDER)}
    best: dict[tuple[str, str], Clue] = {}
    for clue in clues:
        key = (clue.kind, clue.value.lower())
        current = best.get(key)
        # the stronger source wins; between equals, the one that knows the file's path
        if current is None or (rank[clue.source], not clue.path) < (
            rank[current.source],
            not current.path,
        ):
            best[key] = clue
    return sorted(
        best.values(),
        key=lambda clue: (clue.kind != REPO, rank[clue.source]),
    )
