"""text-generation-webui (and llama.cpp-style model folders): `<path>/models/`.

A single GGUF goes straight into models/; a multi-file model (sharded GGUF,
or a safetensors LLM with its config and tokenizer) gets its own folder,
which is how the webui's loaders expect them.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from modeld.links.kinds.base import AppKind
from modeld.links.model import LibraryModel


class TextGenWebUI(AppKind):
    name = "textgen"

    def models_dir(self, app_root: Path) -> Path:
        return app_root / "models"

    def default_folder(self, model: LibraryModel, available: Collection[str]) -> str | None:
        return "" if model.model_type == "llm" else None
