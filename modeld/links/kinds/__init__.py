"""The app kinds modeld can link into, by the name used in `[[app]] kind = ...`."""

from __future__ import annotations

from modeld.config import Config, ConfigError, locate
from modeld.links.kinds.base import AppKind, Placement
from modeld.links.kinds.comfyui import ComfyUI
from modeld.links.kinds.flat import FlatFolders
from modeld.links.kinds.lmstudio import LMStudio
from modeld.links.kinds.textgen import TextGenWebUI

KINDS: dict[str, AppKind] = {
    kind.name: kind for kind in (ComfyUI(), FlatFolders(), LMStudio(), TextGenWebUI())
}

__all__ = ["KINDS", "AppKind", "Placement", "check_kinds", "get_kind"]


def get_kind(name: str) -> AppKind | None:
    return KINDS.get(name.lower())


def check_kinds(config: Config) -> None:
    """Refuse an [[app]] whose kind no module provides: a typo would link nothing, quietly."""
    for number, app in enumerate(config.apps):
        if get_kind(app.kind) is None:
            where = locate(config, f"app[{number}]", "kind")
            known = ", ".join(sorted(KINDS))
            raise ConfigError(f"{where}: unknown app kind {app.kind!r} (known: {known})")
