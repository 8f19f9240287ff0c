"""A plain folder per model type: `<path>/<model_type>/`.

For tools that take "a folder of LoRAs" or "a folder of checkpoints", or to
expose the library to a file share in a browsable shape.
"""

from __future__ import annotations

from collections.abc import Collection

from modeld.links.kinds.base import AppKind
from modeld.links.model import LibraryModel


class FlatFolders(AppKind):
    name = "flat"

    def default_folder(self, model: LibraryModel, available: Collection[str]) -> str | None:
        if model.model_type in ("", "unknown"):
            return None
        return model.model_type
