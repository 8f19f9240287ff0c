"""LM Studio: `<models dir>/<publisher>/<model>/<file>.gguf`.

LM Studio only lists GGUF files in a two-level publisher/model tree. The
publisher and model come from the confirmed Hugging Face repo when there is
one (so the quants of one model share a folder, as LM Studio expects), else
from the library's family and folder names.
"""

from __future__ import annotations

from collections.abc import Collection

from modeld.links.kinds.base import AppKind, Placement, flat_placements
from modeld.links.model import LibraryModel
from modeld.vocab.naming import safe_component

FALLBACK_PUBLISHER = "modeld"


class LMStudio(AppKind):
    name = "lmstudio"

    def default_folder(self, model: LibraryModel, available: Collection[str]) -> str | None:
        if model.format != "gguf":
            return None
        if model.hub_repo:
            publisher, repo = model.hub_repo.split("/")
        else:
            family = model.family if model.family not in ("", "unknown") else ""
            publisher, repo = family or FALLBACK_PUBLISHER, model.folder_name
        return f"{safe_component(publisher, FALLBACK_PUBLISHER)}/{safe_component(repo)}"

    def placements(self, model: LibraryModel, folder: str) -> list[Placement]:
        return flat_placements(model, folder)
