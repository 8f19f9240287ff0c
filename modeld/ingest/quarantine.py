"""Quarantine: refused-as-dangerous files are moved aside, never deleted.

Each quarantined file sits in the quarantine folder beside a small JSON file
with the reason and the imports that were found.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from modeld.ingest.place import same_device
from modeld.vocab.atomic import atomic_write_json, fsync_dir
from modeld.vocab.naming import safe_component

RECORD_SUFFIX = ".quarantine.json"


def quarantine_file(
    source: Path, folder: Path, reason: str, imports: tuple[str, ...], *, keep_source: bool
) -> Path:
    """Move (or copy, when the source must stay) `source` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = folder / safe_component(f"{stamp}-{source.name}")
    counter = 1
    while target.exists():
        target = folder / safe_component(f"{stamp}-{counter}-{source.name}")
        counter += 1
    record = {
        "path": str(source),
        "file": target.name,
        "reason": reason,
        "imports": list(imports),
        "quarantined_at": time.time(),
        "source_kept": keep_source,
    }
    tmp = target.with_name(f".{target.name}.tmp")
    if not keep_source and same_device(source, folder):
        os.rename(source, target)
    else:
        shutil.copyfile(source, tmp, follow_symlinks=False)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        fsync_dir(folder)
        if not keep_source:
            source.unlink()
    atomic_write_json(target.with_name(target.name + RECORD_SUFFIX), record)
    return target


def count_quarantine(folder: Path) -> int:
    """How many quarantined files wait in `folder` (cheap: no record is read)."""
    return sum(1 for _ in folder.glob(f"*{RECORD_SUFFIX}")) if folder.is_dir() else 0


def list_quarantine(folder: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    if not folder.is_dir():
        return entries
    for record_path in sorted(folder.glob(f"*{RECORD_SUFFIX}")):
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        record["quarantined_path"] = str(folder / record.get("file", ""))
        entries.append(record)
    return entries
