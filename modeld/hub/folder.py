"""What a model's folder in the library tells a lookup: its primary file, that
file's header, and the companion JSON files beside it (read-only, bounded)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modeld.ingest.formats import Sniffed, sniff
from modeld.library.layout import METADATA_NAME, OVERRIDES_NAME
from modeld.library.metadata import FileEntry, ModelMeta
from modeld.vocab.reads import read_optional_json

log = logging.getLogger(__name__)

SIDECAR_MAX_BYTES = 1024 * 1024
SIDECAR_MAX_FILES = 20


def basename(name: str) -> str:
    """The last component of a '/'-separated name inside a model folder."""
    return name.rsplit("/", 1)[-1]


def primary_file(meta: ModelMeta) -> FileEntry | None:
    """The file whose sha256 is the model's, else the first one."""
    for file in meta.files:
        if file.sha256 == meta.sha256:
            return file
    return meta.files[0] if meta.files else None


def header_details(folder: Path, primary: FileEntry | None) -> Mapping[str, Any] | None:
    """The primary file's parsed header, read again (bounded; never executes anything)."""
    if primary is None:
        return None
    try:
        result = sniff(folder / primary.name)
    except Exception:  # a header we cannot read is simply no clue
        log.debug("hub: cannot read the header of %s", primary.name, exc_info=True)
        return None
    return result.details if isinstance(result, Sniffed) else None


def read_sidecars(folder: Path) -> dict[str, Any]:
    """Companion JSON objects in the model folder (.civitai.info, same-stem .json), parsed
    with the importer's capped reader."""
    sidecars: dict[str, Any] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return sidecars
    for entry in entries:
        name = entry.name
        lowered = name.lower()
        if name in (METADATA_NAME, OVERRIDES_NAME) or name.startswith("."):
            continue
        if not (lowered.endswith(".civitai.info") or lowered.endswith(".json")):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
        except OSError:
            continue
        document = read_optional_json(Path(entry.path), SIDECAR_MAX_BYTES)
        if document is None:
            continue  # too big, or not a JSON object after all: no clue
        sidecars[name] = document
        if len(sidecars) >= SIDECAR_MAX_FILES:
            break
    return sidecars
