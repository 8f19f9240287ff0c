"""Where things live on disk inside the library root."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from modeld.library.errors import LibraryOffline
from modeld.vocab.naming import collision_key, safe_component, unique_component

METADATA_NAME = "metadata.json"
OVERRIDES_NAME = "overrides.json"
INTERNAL_DIR = ".modeld"
MARKER_NAME = "library.json"


def staging_dir(root: Path) -> Path:
    """Temp files live inside the library so the final rename never crosses devices."""
    return root / INTERNAL_DIR / "staging"


def marker_path(root: Path) -> Path:
    """Its presence tells 'library mounted' from 'library drive gone'."""
    return root / INTERNAL_DIR / MARKER_NAME


KNOWN_LIBRARIES = "libraries.json"


def ensure_library(root: Path, state_dir: Path | None = None) -> str:
    """Create the library skeleton (idempotent) and return its id.

    With `state_dir`, the roots of libraries created before are remembered
    there, outside the library: a known root without its marker is an
    unmounted drive (`LibraryOffline`), never an invitation to start a new,
    empty library on the bare mount point.
    """
    marker = marker_path(root)
    known_file = state_dir / KNOWN_LIBRARIES if state_dir is not None else None
    known = json.loads(known_file.read_text()) if known_file and known_file.exists() else {}
    if marker.exists():
        library_id = str(json.loads(marker.read_text())["library_id"])
    elif str(root) in known:
        raise LibraryOffline(f"the library at {root} is offline (drive not mounted?)")
    else:
        library_id = _create(root)
    if known_file is not None and known.get(str(root)) != library_id:
        known[str(root)] = library_id
        known_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = known_file.with_name(f".{KNOWN_LIBRARIES}.tmp")
        tmp.write_text(json.dumps(known, indent=2) + "\n")
        os.replace(tmp, known_file)
    return library_id


def _create(root: Path) -> str:
    marker = marker_path(root)
    staging_dir(root).mkdir(parents=True, exist_ok=True)
    library_id = uuid.uuid4().hex
    tmp = marker.with_name(f".{MARKER_NAME}.tmp")
    tmp.write_text(json.dumps({"library_id": library_id}) + "\n")
    os.replace(tmp, marker)
    return library_id


def library_available(root: Path) -> bool:
    return marker_path(root).is_file()


def model_parent(root: Path, model_type: str, family: str) -> Path:
    return root / safe_component(model_type, "unknown") / safe_component(family, "unknown")


def choose_model_folder(root: Path, model_type: str, family: str, name: str, key: str) -> Path:
    """A free `<root>/<type>/<family>/<name>/`, suffixed from `key` if a twin exists."""
    return FolderNames(root).choose(model_type, family, name, key)


class FolderNames:
    """Chooses model folders without listing the family folder on every import.

    Each family folder is listed once (its names' collision keys kept), and
    every folder chosen since is added, so an import costs the same in a
    library of 100,000 models as in an empty one. Another process may create
    a folder after the listing: one stat of the chosen name sees it, and the
    family is listed again. (One made between that stat and the rename makes
    the rename fail, as the folder is not empty: nothing is overwritten.) Not
    thread-safe: its one user, the committer, holds the commit lock.
    """

    def __init__(self, root: Path):
        self.root = root
        self._taken: dict[Path, set[str]] = {}

    def choose(self, model_type: str, family: str, name: str, key: str) -> Path:
        parent = model_parent(self.root, model_type, family)
        folder = self._choose(parent, name, key, listed=parent in self._taken)
        if os.path.lexists(folder):  # made by another process since the listing: list again
            self._taken.pop(parent, None)
            folder = self._choose(parent, name, key, listed=False)
        self._taken[parent].add(collision_key(folder.name))
        return folder

    def _choose(self, parent: Path, name: str, key: str, *, listed: bool) -> Path:
        if not listed:
            self._taken[parent] = self._list(parent)
        return parent / unique_component(safe_component(name), self._taken[parent], key)

    @staticmethod
    def _list(parent: Path) -> set[str]:
        try:
            return {collision_key(entry) for entry in os.listdir(parent)}
        except FileNotFoundError:
            return set()
