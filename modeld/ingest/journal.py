"""A small journal of in-flight imports, so a crash at any moment is recoverable.

One JSON file per import, rewritten atomically at each stage:

    staging    sources are being renamed or copied into the staging folder
    placing    the staging folder is about to become the model folder
    committed  the model folder is in place and indexed; sources may remain

`recover` runs at start-up: before `placing` it rolls back (renamed sources
go back where they were, copies are dropped, since their sources are still
there); from `placing` on it rolls forward (index the model, then remove move-
mode sources that are unchanged). Either way every file ends up at its
source or whole in the library, and never indexed twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeld.vocab.atomic import atomic_write_json

log = logging.getLogger(__name__)


@dataclass
class JournalEntry:
    path: Path
    data: dict[str, Any]

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        atomic_write_json(self.path, self.data)

    def finish(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class Journal:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def begin(self, **fields: Any) -> JournalEntry:
        entry_id = uuid.uuid4().hex
        entry = JournalEntry(self.folder / f"{entry_id}.json", {"id": entry_id, **fields})
        atomic_write_json(entry.path, entry.data)
        return entry

    def entries(self) -> list[JournalEntry]:
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append(JournalEntry(path, json.loads(path.read_text())))
            except (OSError, ValueError):
                log.warning("unreadable journal entry %s left for inspection", path)
        return found


def stat_key(path: Path) -> list[int]:
    """What must not change between hashing and removing a source."""
    info = os.lstat(path)
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def source_unchanged(path: Path, recorded: list[int]) -> bool:
    try:
        return stat_key(path) == recorded
    except FileNotFoundError:
        return False


def roll_back(entry: JournalEntry) -> None:
    """Undo an import that did not reach `placing`: sources back, copies gone."""
    data = entry.data
    staging = Path(data["staging"])
    for source, staged in data.get("renamed", []):
        source, staged = Path(source), Path(staged)
        if staged.exists() and not source.exists():
            source.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, source)
            log.debug("put %s back at its source", source)
    if staging.exists():
        _drop_staging(staging, data)
    entry.finish()


def _drop_staging(staging: Path, data: dict[str, Any]) -> None:
    """Remove a staging folder, but never a file whose source is gone."""
    copied = {Path(staged): Path(source) for source, staged in data.get("copied", [])}
    for staged, source in copied.items():
        if staged.exists() and not source.exists():
            rescue = staging.parent.parent / "recovered" / staging.name
            rescue.mkdir(parents=True, exist_ok=True)
            os.rename(staged, rescue / staged.name)
            log.warning("source of %s vanished; kept the copy in %s", staged, rescue)
    shutil.rmtree(staging, ignore_errors=True)


def remove_moved_sources(data: dict[str, Any]) -> list[str]:
    """After commit in move mode: remove copied sources that did not change since hashing."""
    kept = []
    if data.get("mode") != "move":
        return kept
    for source, recorded in data.get("sources", {}).items():
        path = Path(source)
        if any(source == renamed for renamed, _ in data.get("renamed", [])):
            continue  # renamed into the library: nothing left at the source
        if not path.exists():
            continue
        if source_unchanged(path, recorded):
            path.unlink()
        else:
            kept.append(source)
            log.warning("%s changed after it was copied; left in place", source)
    return kept
