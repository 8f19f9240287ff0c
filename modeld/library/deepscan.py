"""Rebuild the index from the metadata.json files: the library is the truth.

Reads only; it never deletes or rewrites anything on disk. Rows are upserted
by model id (so their primary keys, which other tables reference, survive)
and rows with no metadata.json behind them are dropped from the index.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modeld.library import index
from modeld.library.db import ModelRecord, database
from modeld.library.layout import INTERNAL_DIR, METADATA_NAME
from modeld.library.metadata import read_metadata

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class ScanReport:
    found: int = 0
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def model_folders(root: Path) -> Iterator[Path]:
    """Every `<root>/<type>/<family>/<name>/` holding a metadata.json."""
    for level1 in _subdirs(root):
        if level1.name == INTERNAL_DIR:
            continue
        for level2 in _subdirs(level1):
            for folder in _subdirs(level2):
                if os.path.isfile(folder / METADATA_NAME):
                    yield folder


def _subdirs(path: Path) -> Iterator[Path]:
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                    yield Path(entry.path)
    except OSError as exc:
        log.warning("cannot list %s: %s", path, exc.strerror)


def scan_library(
    root: Path, *, deep: bool, progress: Callable[[int], None] | None = None
) -> ScanReport:
    """Reconcile the index with the library.

    deep: re-read every metadata.json (a full rebuild); otherwise only folders
    the index does not know yet are read.
    """
    report = ScanReport()
    query = ModelRecord.select(ModelRecord.model_id, ModelRecord.rel_path)
    # peewee's stubs say tuples() returns the query itself; it yields (id, rel_path) tuples
    rows: Iterable[tuple[str, str]] = query.tuples()  # type: ignore[assignment]
    rel_by_id = dict(rows)
    known = set(rel_by_id.values())
    seen: set[str] = set()
    batch: list[Path] = []

    def flush() -> None:
        with database.atomic():
            for folder in batch:
                if _index_folder(root, folder, report, rel_by_id):
                    seen.add(folder.relative_to(root).as_posix())
        batch.clear()

    for folder in model_folders(root):
        report.found += 1
        rel = folder.relative_to(root).as_posix()
        if not deep and rel in known:
            seen.add(rel)
            report.unchanged += 1
            continue
        batch.append(folder)
        if len(batch) >= BATCH:
            flush()
            if progress:
                progress(report.found)
    flush()

    stale = known - seen  # no metadata.json, or a phantom: out of the index, still on disk
    for rel in stale:
        record = ModelRecord.get_or_none(ModelRecord.rel_path == rel)
        if record is not None:
            index.remove_model(record.model_id)
            report.removed += 1
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return report


def _index_folder(root: Path, folder: Path, report: ScanReport, rel_by_id: dict[str, str]) -> bool:
    try:
        meta = read_metadata(folder)
    except (OSError, ValueError) as exc:
        report.skipped.append({"path": str(folder), "reason": f"unreadable metadata.json: {exc}"})
        return False
    missing = [f.name for f in meta.files if not os.path.exists(folder / f.name)]
    if missing:
        report.skipped.append(
            {"path": str(folder), "reason": f"files missing: {', '.join(missing[:5])}"}
        )
        return False
    rel = folder.relative_to(root).as_posix()
    other = rel_by_id.get(meta.id)
    if other is not None and other != rel and os.path.isfile(root / other / METADATA_NAME):
        report.skipped.append({"path": str(folder), "reason": f"same id as {root / other}"})
        return False
    index.upsert_model(root, folder, meta)
    rel_by_id[meta.id] = rel
    report.indexed += 1
    return True
