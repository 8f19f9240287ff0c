"""The app kinds modeld can link into, by the name used in `[[app]] kind = ...`."""

from __future__ import annotations

from modeld.links.kinds.base import AppKind, Placement
from modeld.links.kinds.comfyui import ComfyUI
from modeld.links.kinds.flat import FlatFolders
from modeld.links.kinds.lmstudio import LMStudio
from modeld.links.kinds.textgen import TextGenWebUI

KINDS: dict[str, AppKind] = {
    kind.name: kind for kind in (ComfyUI(), FlatFolders(), LMStudio(), TextGenWebUI())
}

__all__ = ["KINDS", "AppKind", "Placement", "get_kind"]


def get_kind(name: str) -> AppKind | None:
    return KINDS.get(name.lower())
