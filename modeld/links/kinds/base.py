"""What an app kind is: where an app wants each model (pure functions).

A kind answers three questions and touches no file: under which folder of
the app does a model belong (`default_folder`), which entries does it put
there (`placements`), and which folder holds everything modeld manages for
the app (`models_dir`). Everything else (discovery, canary, conflicts, the
registry, repair) is shared, so a new kind is one small module.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from modeld.links.model import LibraryModel
from modeld.vocab.filenames import is_generic_stem


@dataclass(frozen=True)
class Placement:
    """One link to make: `<models_dir>/<folder>/<entry>[/<inner>]` -> `<model folder>/<source>`.

    `entry` is the name that appears in `folder` and the unit of conflict
    handling: when something not ours already holds that name, the entry is
    suffixed as a whole. When `inner` is set, `entry` is a folder modeld makes
    to keep a multi-file model together (all shards under their own names).
    """

    source: str  # relative to the model folder, '/'-separated; '' = the folder itself
    folder: str  # relative to the app's models dir, '/'-separated; '' = the models dir
    entry: str
    inner: str = ""
    is_dir: bool = False


class AppKind:
    """Base class of app kinds; subclasses set `name` and override `default_folder`."""

    name: ClassVar[str]
    # folder names the kind's own table uses (the rest of what exists is "discovered")
    known_folders: ClassVar[frozenset[str]] = frozenset()
    # the folders (relative to models_dir, '' = itself) whose subfolders take links:
    # discovery lists their subfolders, and orphaned links are looked for below them
    link_roots: ClassVar[tuple[str, ...]] = ("",)

    def models_dir(self, app_root: Path) -> Path:
        """The folder under which modeld links (and looks for orphaned links)."""
        return app_root

    def default_folder(self, model: LibraryModel, available: Collection[str]) -> str | None:
        """The folder (relative to `models_dir`) this model belongs in, or None to skip it.

        `available` holds the names of the folders that exist under
        `models_dir`, for apps whose folder names changed between versions.
        """
        raise NotImplementedError

    def placements(self, model: LibraryModel, folder: str) -> list[Placement]:
        return standard_placements(model, folder)

    def detect_version(self, app_root: Path) -> str | None:
        """The installed app's version, read from its files (never executed)."""
        return None


def standard_placements(model: LibraryModel, folder: str) -> list[Placement]:
    """One weights file as itself, with the sidecars named after it (previews,
    .civitai.info) beside it, where ComfyUI's preview extensions look; several
    weights files, or one with a name like `model.safetensors`, together in a
    folder named after the model; a diffusers pipeline as one folder link.

    A model's link name never depends on whether a preview came with it, so a
    workflow that names `x.safetensors` keeps working when one arrives later.
    """
    if model.is_folder_model:
        return [Placement(model.folder_root, folder, model.folder_name, is_dir=True)]
    weights = [f.rel for f in model.files if f.is_weights]
    stem = posixpath.basename(weights[0]).rsplit(".", 1)[0] if weights else ""
    if len(weights) == 1 and not is_generic_stem(stem):
        [only] = weights
        beside = [
            f.rel
            for f in model.files
            if f.rel != only and "/" not in f.rel and f.rel.startswith(f"{stem}.")
        ]
        return [Placement(rel, folder, posixpath.basename(rel)) for rel in [only, *beside]]
    return [Placement(f.rel, folder, model.folder_name, inner=f.rel) for f in model.files]


def flat_placements(model: LibraryModel, folder: str) -> list[Placement]:
    """Every file straight into `folder` (already per model); shards keep their names."""
    if model.is_folder_model:
        return standard_placements(model, folder)
    return [Placement(f.rel, folder, posixpath.basename(f.rel)) for f in model.files]


def discovered_folder(model: LibraryModel, available: Collection[str]) -> str | None:
    """A discovered folder named like the model's type (custom nodes add "LLM", "ipadapter")."""
    wanted = model.model_type.casefold()
    if wanted in ("", "unknown"):
        return None
    return next(
        (path for path in sorted(available) if posixpath.basename(path).casefold() == wanted),
        None,
    )


def pick_existing(available: Collection[str], *names: str) -> str:
    """The first of `names` present in `available`, else the first (to be created)."""
    return next((name for name in names if name in available), names[0])
