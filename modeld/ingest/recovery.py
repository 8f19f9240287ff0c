"""Finish or undo the imports a crash interrupted (see journal.py for the rules)."""

from __future__ import annotations

import logging
from pathlib import Path

from modeld.config import Config
from modeld.ingest import journal as journal_ops
from modeld.library import index
from modeld.library.layout import staging_dir
from modeld.library.metadata import ModelMeta, read_metadata

log = logging.getLogger(__name__)


def recover(config: Config) -> list[str]:
    """Returns one line per unit handled. Entries of a process still running are left."""
    journal = journal_ops.Journal(config.journal_path)
    messages = []
    handled: set[str] = set()  # unit entries a batch entry stood for
    for entry in journal.entries():  # batches come first
        if entry.id in handled:
            continue
        for unit in entry.units:
            messages.append(_recover_unit(config.library_root, unit))
            if unit.entry_id is not None:
                handled.add(unit.entry_id)
                (journal.folder / f"{unit.entry_id}.json").unlink(missing_ok=True)
        entry.finish()
    swept = journal_ops.sweep_staging(staging_dir(config.library_root))
    if swept:
        messages.append(f"removed {swept} staging folders of interrupted imports")
    for message in messages:
        log.info("recovery: %s", message)
    return messages


def _recover_unit(root: Path, unit: journal_ops.UnitRecord) -> str:
    folder = Path(unit.folder) if unit.folder else None
    meta = _placed(folder, unit.model_id) if unit.stage != "staging" else None
    if folder is not None and meta is not None:
        # a folder in place was flushed before its rename: roll it forward
        if unit.stage == "placing" or not index.model_indexed(meta.id):
            index.upsert_model(root, folder, meta)
        journal_ops.remove_moved_sources(unit)
        return f"finished interrupted import of {folder}"
    journal_ops.roll_back_unit(unit)
    files = len(unit.linked) + len(unit.renamed) + len(unit.copied)
    return f"rolled back interrupted import ({files} files)"


def _placed(folder: Path | None, model_id: str | None) -> ModelMeta | None:
    """The metadata of the unit's model folder, if that folder is in place."""
    if folder is None:
        return None
    try:
        meta = read_metadata(folder)
    except (OSError, ValueError):
        return None
    return meta if model_id is None or meta.id == model_id else None
