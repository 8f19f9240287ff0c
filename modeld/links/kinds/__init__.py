"""The app kinds modeld can link into, by the name used in `[[app]] kind = ...`."""

from __future__ import annotations

from modeld.config import Config, ConfigError, locate
from modeld.links.kinds.a1111 import StableDiffusionWebUI
from modeld.links.kinds.base import AppKind, Placement
from modeld.links.kinds.comfyui import ComfyUI
from modeld.links.kinds.flat import FlatFolders
from modeld.links.kinds.lmstudio import LMStudio
from modeld.links.kinds.textgen import TextGenWebUI

KINDS: dict[str, AppKind] = {
    kind.name: kind
    for kind in (ComfyUI(), StableDiffusionWebUI(), FlatFolders(), LMStudio(), TextGenWebUI())
}
# other names people use for an app a kind covers
ALIASES = {"automatic1111": "a1111", "forge": "a1111", "reforge": "a1111"}

__all__ = ["KINDS", "AppKind", "Placement", "check_kinds", "get_kind"]


def get_kind(name: str) -> AppKind | None:
    key = name.lower()
    return KINDS.get(ALIASES.get(key, key))


def check_kinds(config: Config) -> None:
    """Refuse an [[app]] whose kind no module provides: a typo would link nothing, quietly."""
    for number, app in enumerate(config.apps):
        if get_kind(app.kind) is None:
            where = locate(config, f"app[{number}]", "kind")
            known = ", ".join(sorted(KINDS))
            raise ConfigError(f"{where}: unknown app kind {app.kind!r} (known: {known})")
