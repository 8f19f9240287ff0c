"""Moves: the library or an app found at a new path, and links found again after one.

When a drive remounts elsewhere or a folder is moved, every link breaks at
once. Rather than ten thousand errors, one pass rebases the registered app
paths, finds each link's model again (by id, else by content hash, else by
its path below the old library root) and lets the repair re-aim the links.
All prefix tests are whole-component (`/media/usb` never matches `/media/usb2`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from peewee import fn

from modeld.library.db import database
from modeld.links import registry
from modeld.links.model import LibraryModel
from modeld.links.paths import rebase, relative_within
from modeld.links.registry import LinkRecord

log = logging.getLogger(__name__)

# The JSON a pass reports its moves in (`relocated`); "from" is a keyword,
# hence the functional syntax.
LibraryMove = TypedDict("LibraryMove", {"from": str, "to": str})
AppMove = TypedDict("AppMove", {"from": str, "to": str, "links": int})


class Relocated(TypedDict, total=False):
    """The moves one pass followed (or, for `links check`, found): none, either, both."""

    library: LibraryMove
    apps: dict[str, AppMove]  # by app name


def rebase_app(app: str, new_root: str) -> AppMove | None:
    """Rewrite the registered paths of `app` from its last known root to `new_root`."""
    old_root = registry.known_app_root(app)
    if not old_root or old_root == new_root:
        return None
    prefix = old_root.rstrip("/") + "/"
    rows = list(
        LinkRecord.select().where(
            (LinkRecord.app == app) & (fn.substr(LinkRecord.path, 1, len(prefix)) == prefix)
        )
    )
    moved = 0
    with database.atomic():
        for row in rows:
            path = rebase(row.path, old_root, new_root)
            if path is None:
                continue
            if registry.row_at(path) is not None:
                row.delete_instance()  # the new place already has its own registered link
                continue
            row.path = path
            row.group = rebase(row.group, old_root, new_root) if row.group else None
            row.save()
            moved += 1
    if moved:
        log.info("app %s moved from %s to %s: %d links follow it", app, old_root, new_root, moved)
    return {"from": old_root, "to": new_root, "links": moved}


@dataclass
class Finder:
    """Finds a link's model again after the index or the library changed under it."""

    models: Mapping[str, LibraryModel]
    old_roots: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.by_file_hash: dict[str, tuple[str, str]] = {}
        self.by_model_hash: dict[str, str] = {}
        self.by_rel: dict[str, str] = {}
        for model in self.models.values():
            self.by_rel[model.rel_path] = model.model_id
            if model.blake3:
                self.by_model_hash.setdefault(model.blake3, model.model_id)
            for file in model.files:
                self.by_file_hash.setdefault(file.blake3, (model.model_id, file.rel))

    def find(self, row: LinkRecord) -> tuple[LibraryModel, str] | None:
        """(model, source) for a registered link, or None when its model is gone."""
        model = self.models.get(row.model_id)
        if model is not None and self._has(model, row.source, row.is_dir):
            return model, row.source
        if row.blake3:
            if row.is_dir and row.blake3 in self.by_model_hash:
                found = self.models[self.by_model_hash[row.blake3]]
                return found, found.folder_root
            if not row.is_dir and row.blake3 in self.by_file_hash:
                model_id, rel = self.by_file_hash[row.blake3]
                return self.models[model_id], rel
        for root in self.old_roots:
            inside = relative_within(row.target, root)
            if inside:
                hit = self.by_path(inside)
                if hit and self._has(hit[0], hit[1], row.is_dir):
                    return hit
        return None

    def by_path(self, rel: str) -> tuple[LibraryModel, str] | None:
        """Split a library-relative path into (model, path inside the model folder)."""
        parts = rel.split("/")
        for cut in range(1, len(parts) + 1):
            model_id = self.by_rel.get("/".join(parts[:cut]))
            if model_id is not None:
                return self.models[model_id], "/".join(parts[cut:])
        return None

    @staticmethod
    def _has(model: LibraryModel, source: str, is_dir: bool) -> bool:
        if is_dir:
            return source == model.folder_root or any(
                f.rel.startswith(f"{source}/") for f in model.files
            )
        return model.file(source) is not None
