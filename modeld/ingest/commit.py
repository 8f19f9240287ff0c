"""Group commit: many staged units enter the library with one flush.

    dedupe ─▶ choose folders, write each metadata.json (no flush) ─▶ batch
    entry in the journal ─▶ ONE flush (every staged byte, metadata.json and
    the entry) ─▶ rename each staging folder into place ─▶ fsync each parent
    ─▶ ONE index transaction ─▶ remove move-mode sources ─▶ drop the entries

The order is the guarantee. A folder in place implies the flush finished
before its rename, so its bytes, its metadata.json and the batch entry are
durable; `recover` rolls such a unit forward. A unit not yet in place rolls
back, and loses nothing: its sources are still there (links and copies never
touch them). Sources go only after the renames and their parents' fsync.
Everything past the flush is idempotent, so a kill there is finished by
`recover` and indexes nothing twice (the index is keyed by model id).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from modeld.ingest import journal as journal_ops
from modeld.ingest.flush import flush
from modeld.ingest.outcomes import Duplicate, Failed, Imported, Outcome, Waiting
from modeld.ingest.place import describe_os_error, same_bytes
from modeld.ingest.stage import StagedUnit
from modeld.library import index
from modeld.library.layout import METADATA_NAME, FolderNames
from modeld.library.metadata import ModelMeta
from modeld.vocab.atomic import encode_json, fsync_dir

log = logging.getLogger(__name__)


@dataclass
class Placed:
    staged: StagedUnit
    folder: Path

    @property
    def meta(self) -> ModelMeta:
        return self.staged.meta


class Committer:
    """Commits batches of staged units. Thread-safe: one batch at a time."""

    def __init__(self, root: Path, journal: journal_ops.Journal):
        self.root = root
        self.journal = journal
        self.folders = FolderNames(root)
        self._lock = threading.Lock()

    def commit(self, batch: list[StagedUnit]) -> list[Outcome]:
        """One outcome per staged unit, in order. Every unit is committed or rolled back."""
        with self._lock:
            outcomes: dict[int, Outcome] = {}
            placing, twins = self._dedupe(batch, outcomes)
            if placing:
                self._place(placing, outcomes)
            # a twin of a unit of this batch: its bytes are in the library only now
            for position, (staged, model_id) in twins.items():
                outcomes[position] = self._discard(staged, model_id)
            return [outcomes[position] for position in range(len(batch))]

    def _dedupe(
        self, batch: list[StagedUnit], outcomes: dict[int, Outcome]
    ) -> tuple[dict[int, StagedUnit], dict[int, tuple[StagedUnit, str]]]:
        """Same content is stored once: in the library already, or twice in this batch."""
        placing: dict[int, StagedUnit] = {}
        twins: dict[int, tuple[StagedUnit, str]] = {}
        ids: set[str] = set()
        contents: dict[str, str] = {}
        for position, staged in enumerate(batch):
            meta = staged.meta
            single = len(staged.unit.weights) == 1
            existing = meta.id if index.model_indexed(meta.id) else None
            if existing is None and single:
                existing = index.model_id_by_content(meta.blake3)
            if existing is not None:
                outcomes[position] = self._discard(staged, existing)
            elif meta.id in ids or (single and meta.blake3 in contents):
                twins[position] = (staged, meta.id if meta.id in ids else contents[meta.blake3])
            else:
                ids.add(meta.id)
                if single:
                    contents[meta.blake3] = meta.id
                placing[position] = staged
        return placing, twins

    def _place(self, placing: dict[int, StagedUnit], outcomes: dict[int, Outcome]) -> None:
        ready: dict[int, Placed] = {}
        try:
            for position, staged in placing.items():
                changed = _changed_source(staged.record)
                if changed is not None:
                    journal_ops.undo(self.journal, staged.record)
                    reason = "file changed while it was being imported"
                    outcomes[position] = Waiting(changed, reason)
                    continue
                ready[position] = self._prepare(staged)
            if not ready:
                return
            batch_entry = self.journal.begin_batch([p.staged.record for p in ready.values()])
        except OSError as exc:
            for position, staged in placing.items():
                journal_ops.undo(self.journal, staged.record)
                source = staged.unit.source
                outcomes.setdefault(position, Failed(str(source), describe_os_error(exc, source)))
            return
        try:
            self._make_durable(list(ready.values()), batch_entry)
        except OSError as exc:
            journal_ops.roll_back(batch_entry)
            for position, placed in ready.items():
                journal_ops.undo(self.journal, placed.staged.record)
                source = placed.staged.unit.source
                outcomes[position] = Failed(str(source), describe_os_error(exc, source))
            return
        self._finish(ready, batch_entry, outcomes)

    def _prepare(self, staged: StagedUnit) -> Placed:
        """Choose the folder and write metadata.json into staging (no flush: the batch's)."""
        meta = staged.meta
        folder = self.folders.choose(meta.model_type, meta.family, staged.unit.name, meta.blake3)
        (staged.staging / METADATA_NAME).write_bytes(encode_json(meta.to_json(folder)))
        record = staged.record
        record.stage, record.folder, record.model_id = "placing", str(folder), meta.id
        return Placed(staged, folder)

    def _make_durable(self, placed: list[Placed], batch_entry: journal_ops.JournalEntry) -> None:
        def every_path() -> list[Path]:
            paths: list[Path] = [batch_entry.path, self.journal.folder]
            for item in placed:
                paths += [item.staged.staging, *item.staged.staging.rglob("*")]
            return paths

        flush([self.root, self.journal.folder], every_path)

    def _finish(
        self,
        ready: dict[int, Placed],
        batch_entry: journal_ops.JournalEntry,
        outcomes: dict[int, Outcome],
    ) -> None:
        """Past the flush: rename, index, remove sources. A failure here is finished by recover."""
        try:
            parents: set[Path] = set()
            for placed in ready.values():
                parents |= _make_parent(placed.folder.parent)
                os.rename(placed.staged.staging, placed.folder)
                parents.add(placed.folder.parent)
            for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
                fsync_dir(parent)
            index.upsert_models(self.root, [(p.folder, p.meta) for p in ready.values()])
            for placed in ready.values():
                journal_ops.remove_moved_sources(placed.staged.record)
        except OSError as exc:
            log.error("import batch interrupted (%s); it finishes at the next start", exc)
            for position, placed in ready.items():
                source = placed.staged.unit.source
                reason = f"{describe_os_error(exc, source)}; will finish on restart"
                outcomes[position] = Failed(str(source), reason)
            return
        batch_entry.finish()
        for position, placed in ready.items():
            self.journal.forget_unit(placed.staged.record)
            model = placed.meta.model_object(placed.folder)
            outcomes[position] = Imported(str(placed.staged.unit.source), model)

    def _discard(self, staged: StagedUnit, model_id: str) -> Outcome:
        """Same content is stored once.

        Everything staged is dropped first (the journal's roll-back); then, in
        move mode, only the source files whose bytes the library already holds,
        compared byte for byte, are removed. A file unique to this drop (a
        different preview, a different VAE) stays where it is.
        """
        journal_ops.undo(self.journal, staged.record)
        if staged.record.mode == "move":
            for file in staged.unit.files:
                stored = index.find_file(staged.digests[file.name].blake3)
                if stored is not None and same_bytes(file.path, self.root / stored):
                    file.path.unlink()
        return Duplicate(str(staged.unit.source), model_id)


def _make_parent(parent: Path) -> set[Path]:
    """Create a model's family folder if needed; the folders whose entries changed."""
    if parent.is_dir():
        return set()
    missing = [parent, *[p for p in parent.parents if not p.exists()]]
    parent.mkdir(parents=True, exist_ok=True)
    return {p.parent for p in missing}


def _changed_source(record: journal_ops.UnitRecord) -> str | None:
    """A linked file written to since it was hashed: the staged name and the source
    are one inode, so its stat key, taken at hashing, tells."""
    for source, staged in record.linked:
        if os.path.lexists(staged) and not journal_ops.source_unchanged(
            Path(staged), record.sources[source]
        ):
            return source
    return None
