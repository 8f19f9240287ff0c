"""Which folder of an app a model goes to: the kind's table plus the user's `[app.folders]`.

Keys in `[app.folders]`, most specific first:
  "<model_type>/<family>"  e.g. "lora/flux" = "loras/flux"
  "<model_type>"           e.g. "llm" = "LLM"        (overrides the kind's table)
  "<family>"               e.g. "ipadapter" = "ipadapter"  (only for models the
                           kind's table leaves unlinked, so a family key never
                           pulls a LoRA out of loras/)
A value of "" means "do not link these into this app".
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping

from modeld.links.errors import FolderError
from modeld.links.kinds.base import AppKind
from modeld.links.model import LibraryModel

log = logging.getLogger(__name__)


def clean_folder(value: str) -> str:
    """A configured folder as a safe '/'-separated relative path ('' = do not link)."""
    text = value.strip().replace("\\", "/").strip("/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if value.strip().startswith(("/", "~")) or os.path.isabs(value) or ".." in parts:
        raise FolderError(f"{value!r} must be a folder below the app's models folder")
    return "/".join(parts)


def validated_folders(app_name: str, folders: Mapping[str, str]) -> dict[str, str]:
    """The usable `[app.folders]` entries; a bad one is dropped with a warning naming it."""
    usable = {}
    for key, value in folders.items():
        try:
            usable[key.strip().lower()] = clean_folder(value)
        except FolderError as exc:
            log.warning("app %s: folders.%s ignored: %s", app_name, key, exc)
    return usable


def folder_for(
    kind: AppKind,
    model: LibraryModel,
    configured: Mapping[str, str],
    available: Collection[str],
) -> str | None:
    """The folder (relative to the app's models dir) for `model`, or None to leave it out."""
    model_type = model.model_type.lower()
    family = model.family.lower()
    for key in (f"{model_type}/{family}", model_type):
        if key in configured:
            return configured[key] or None
    folder = kind.default_folder(model, available)
    if folder is None and family in configured:
        return configured[family] or None
    return folder


def unnamed_folders(
    kind: AppKind, available: Collection[str], configured: Mapping[str, str]
) -> list[str]:
    """Discovered folders that neither the kind's table nor the config sends anything to."""

    def named(folder: str) -> bool:
        return folder in kind.known_folders or any(
            value == folder or value.startswith(f"{folder}/") for value in configured.values()
        )

    return sorted(name for name in available if not named(name))
