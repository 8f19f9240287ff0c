"""The import pipeline: one unit in, one outcome out.

    inspect (content) ─▶ stage (rename+hash, or copy+hash) ─▶ re-check source
    ─▶ dedupe (BLAKE3) ─▶ identify ─▶ metadata.json ─▶ place (rename folder)
    ─▶ index ─▶ remove move-mode sources

A refused or failed unit is a value (`Failed`, `Waiting`, `Quarantined`,
`Duplicate`) that flows to the report, not an exception thrown past the
journal. Every stage that touches user bytes is recorded in the journal
first, so `recover()` can finish or undo it after a crash.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import blake3

from modeld.config import Config
from modeld.control import events
from modeld.ingest import attach
from modeld.ingest import journal as journal_ops
from modeld.ingest.errors import ImportCancelled, IngestError
from modeld.ingest.formats import Dangerous, Refused, Sniffed
from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.identify import identify
from modeld.ingest.outcomes import (
    Attached,
    Duplicate,
    Failed,
    Imported,
    ImportReport,
    Outcome,
    Quarantined,
    Waiting,
    problem_outcome,
)
from modeld.ingest.place import (
    describe_os_error,
    rename_and_hash,
    same_bytes,
    same_device,
)
from modeld.ingest.planner import plan_units
from modeld.ingest.quarantine import quarantine_file
from modeld.ingest.units import ImportUnit
from modeld.library import index
from modeld.library.layout import (
    choose_model_folder,
    library_available,
    staging_dir,
)
from modeld.library.metadata import FileEntry, ModelMeta, read_metadata, write_metadata
from modeld.vocab.atomic import fsync_dir
from modeld.vocab.hashing import Digests, copy_and_hash
from modeld.vocab.naming import display_name, safe_relative_names
from modeld.vocab.paths import is_within

log = logging.getLogger(__name__)

ID_LENGTH = 16


ProgressSink = Callable[[int, int], None]
"""Called with (bytes done, bytes total) for the unit being imported."""


class _StageError(IngestError):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


class Importer:
    """Imports units into the library. Thread-safe: workers may call it concurrently."""

    def __init__(
        self,
        config: Config,
        *,
        on_event: Callable[[events.Event], None] | None = None,
        after_import: Iterable[Callable[[ModelMeta, Mapping[str, Any] | None], None]] = (),
    ):
        self.config = config
        self.root = config.library_root
        self.journal = journal_ops.Journal(config.journal_path)
        self.on_event = on_event or (lambda event: None)
        self.after_import = list(after_import)
        # dedupe check + placement + indexing must not interleave between workers
        self._commit_lock = threading.Lock()

    # -- entry points -----------------------------------------------------

    def import_paths(
        self,
        paths: Iterable[Path],
        *,
        copy: bool,
        boundary: Path | None = None,
        progress: ProgressSink | None = None,
    ) -> ImportReport:
        report = ImportReport()
        units, problems = plan_units([Path(p) for p in paths], boundary=boundary)
        for problem in problems:
            report.add(self._emit(problem_outcome(problem)))
        for unit in units:
            report.add(self.import_unit(unit, copy=copy, progress=progress))
        return report

    def import_unit(
        self, unit: ImportUnit, *, copy: bool, progress: ProgressSink | None = None
    ) -> Outcome:
        try:
            return self._emit(self._import_unit(unit, copy=copy, progress=progress))
        except _StageError as stop:
            return self._emit(stop.outcome)

    # -- the stages -------------------------------------------------------

    def _import_unit(
        self, unit: ImportUnit, *, copy: bool, progress: ProgressSink | None
    ) -> Outcome:
        source = str(unit.source)
        if not library_available(self.root):
            return Waiting(source, f"library is offline ({self.root})")
        if any(_inside(self.root, f.path) for f in unit.files):
            return Failed(source, "source is inside the library")

        vanished = [f.path for f in unit.files if not os.path.lexists(f.path)]
        if vanished:
            return Failed(source, f"source vanished: {vanished[0]}")
        if unit.kind == "companion":
            return self._attach(unit.source, copy=copy)
        inspected = inspect_unit(unit)
        if isinstance(inspected, Refused):
            return (Waiting if inspected.retry else Failed)(source, inspected.reason)
        if isinstance(inspected, Dangerous):
            return self._quarantine(unit, inspected, keep_source=copy)

        total = sum(_size(f.path) for f in unit.files)
        self.on_event(events.ImportStarted(source, total))
        staging = staging_dir(self.root) / f"import-{os.getpid()}-{time.monotonic_ns()}"
        entry = self.journal.begin(
            stage="staging",
            mode="copy" if copy else "move",
            staging=str(staging),
            sources={},
            renamed=[],
            copied=[],
        )
        try:
            staging.mkdir(parents=True)
            digests = self._stage(unit, staging, entry, copy=copy, total=total, progress=progress)
            return self._commit(unit, inspected, staging, digests, entry)
        except _StageError as stop:
            journal_ops.roll_back(entry)
            raise stop from None
        except ImportCancelled as cancelled:
            journal_ops.roll_back(entry)
            return Waiting(source, f"interrupted: {cancelled}")
        except OSError as exc:
            if entry.data.get("stage") != "staging":
                # past the point of no return: recover() rolls it forward at next start
                return Failed(
                    source, f"{describe_os_error(exc, unit.source)}; will finish on restart"
                )
            journal_ops.roll_back(entry)
            return Failed(source, describe_os_error(exc, unit.source))

    def _stage(
        self,
        unit: ImportUnit,
        staging: Path,
        entry: journal_ops.JournalEntry,
        *,
        copy: bool,
        total: int,
        progress: ProgressSink | None,
    ) -> dict[str, Digests]:
        """Bring every file into `staging`, hashing each byte once."""
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        digests: dict[str, Digests] = {}
        staged_names = _staged_names(unit)
        for file in unit.files:
            staged = staging / staged_names[file.name]
            staged.parent.mkdir(parents=True, exist_ok=True)
            before = journal_ops.stat_key(file.path)
            entry.data["sources"][str(file.path)] = before
            if not copy and same_device(file.path, staging):
                entry.update(renamed=[*entry.data["renamed"], [str(file.path), str(staged)]])
                digests[file.name] = rename_and_hash(file.path, staged, advance)
                after = journal_ops.stat_key(staged)
            else:
                entry.update(copied=[*entry.data["copied"], [str(file.path), str(staged)]])
                digests[file.name] = copy_and_hash(file.path, staged, advance)
                after = journal_ops.stat_key(file.path)
            # a file that changed while we read it was not finished
            if after[:2] != before[:2] or digests[file.name].size != before[0]:
                raise _StageError(
                    Waiting(str(file.path), "file changed while it was being imported")
                )
        return digests

    def _commit(
        self,
        unit: ImportUnit,
        sniffed: Sniffed,
        staging: Path,
        digests: dict[str, Digests],
        entry: journal_ops.JournalEntry,
    ) -> Outcome:
        primary = digests[unit.primary.name]
        # described outside the lock: identification is pure, and imports on
        # other drives should not queue behind it
        meta = describe(unit, sniffed, digests)
        with self._commit_lock:
            existing = index.get_model(meta.id)
            if existing is None and len(unit.weights) == 1:
                existing = index.find_by_content(primary.blake3)
            if existing is not None:
                return self._discard_duplicate(unit, digests, existing, entry)

            folder = choose_model_folder(
                self.root, meta.model_type, meta.family, unit.name, primary.blake3
            )
            # written in staging with the final paths, so it is whole before the rename
            write_metadata(staging, meta, located_in=folder)
            folder.parent.mkdir(parents=True, exist_ok=True)
            entry.update(stage="placing", folder=str(folder), model_id=meta.id)
            os.rename(staging, folder)
            fsync_dir(folder.parent)
            index.upsert_model(self.root, folder, meta)
            entry.update(stage="committed")
        journal_ops.remove_moved_sources(entry.data)
        entry.finish()
        self._after_import(meta, sniffed.details)
        return Imported(str(unit.source), meta.model_object(folder))

    def _after_import(self, meta: ModelMeta, details: Mapping[str, Any] | None) -> None:
        """`details`: the parsed header, when this import read one (the enricher's clues)."""
        for hook in self.after_import:
            try:
                hook(meta, details)
            except Exception:  # a hook (links, hub) must never undo an import
                log.exception("post-import step failed for %s", meta.id)

    def _attach(self, source: Path, *, copy: bool) -> Outcome:
        try:
            owner = attach.find_owner(self.root, source.name)
            meta, changed = attach.attach(self.root, self.journal, source, owner, copy=copy)
        except (attach.NoOwner, FileExistsError) as exc:  # their messages say why
            return Failed(str(source), str(exc))
        except OSError as exc:
            return Failed(str(source), describe_os_error(exc, source))
        if not changed:
            return Duplicate(str(source), meta.id)
        self._after_import(meta, None)
        return Attached(str(source), meta.model_object(owner.folder))

    def _discard_duplicate(
        self,
        unit: ImportUnit,
        digests: dict[str, Digests],
        existing: index.ModelRecord,
        entry: journal_ops.JournalEntry,
    ) -> Outcome:
        """Same content is stored once.

        Everything goes back to its source first (the journal's roll-back);
        then, in move mode, only the source files whose bytes the library
        already holds, compared byte for byte, are removed. A file unique to
        this drop (a different preview, a different VAE) stays where it is.
        """
        journal_ops.roll_back(entry)
        if entry.data["mode"] == "move":
            for file in unit.files:
                stored = index.find_file(digests[file.name].blake3)
                if stored is not None and same_bytes(file.path, self.root / stored):
                    file.path.unlink()
        return Duplicate(str(unit.source), existing.model_id)

    def _quarantine(self, unit: ImportUnit, danger: Dangerous, *, keep_source: bool) -> Outcome:
        source = danger.path or unit.source  # the file holding the pickle, not the primary
        try:
            quarantine_file(
                source,
                self.config.quarantine_dir,
                danger.reason,
                danger.imports,
                keep_source=keep_source,
            )
        except OSError as exc:
            return Failed(str(source), f"could not quarantine: {describe_os_error(exc, source)}")
        return Quarantined(str(source), danger.reason)

    def _emit(self, outcome: Outcome) -> Outcome:
        match outcome:
            case Attached(path=path, model=model):
                log.info("attached %s to %s (%s)", path, model["id"], model["name"])
            case Failed(path=path, reason=reason):
                log.warning("not imported: %s: %s", path, reason)
            case Waiting(path=path, reason=reason):
                log.info("waiting: %s: %s", path, reason)
        event = outcome.event()
        if event is not None:
            self.on_event(event)
        return outcome


def recover(config: Config) -> list[str]:
    """Finish or undo imports a crash interrupted. Returns one line per entry handled."""
    journal = journal_ops.Journal(config.journal_path)
    messages = []
    for entry in journal.entries():
        data = entry.data
        folder = Path(data["folder"]) if data.get("folder") else None
        placed = folder is not None and (folder / "metadata.json").exists()
        if data.get("stage") in ("placing", "committed") and placed:
            meta = read_metadata(folder)
            if data.get("stage") == "placing" or index.get_model(meta.id) is None:
                index.upsert_model(config.library_root, folder, meta)
            journal_ops.remove_moved_sources(data)
            entry.finish()
            messages.append(f"finished interrupted import of {folder}")
        else:
            journal_ops.roll_back(entry)
            messages.append(
                f"rolled back interrupted import ({len(data.get('sources', {}))} files)"
            )
    for message in messages:
        log.info("recovery: %s", message)
    return messages


def describe(unit: ImportUnit, sniffed: Sniffed, digests: dict[str, Digests]) -> ModelMeta:
    """The metadata of a hashed unit about to enter the library (pure)."""
    primary = digests[unit.primary.name]
    identity = identify(unit, sniffed)
    staged_names = _staged_names(unit)
    return ModelMeta(
        id=unit_id(unit, digests),
        name=display_name(unit.name),  # the exact original is in files and sources
        model_type=identity.model_type.value or "unknown",
        family=identity.family.value or "unknown",
        format=sniffed.format,
        precision=identity.precision.value,
        quant=identity.quant.value,
        size=sum(d.size for d in digests.values()),
        sha256=primary.sha256,
        blake3=primary.blake3,
        files=[
            FileEntry(
                name=staged_names[f.name],
                size=digests[f.name].size,
                sha256=digests[f.name].sha256,
                blake3=digests[f.name].blake3,
                original_name=f.path.name,
            )
            for f in unit.files
        ],
        sources=[str(f.path) for f in unit.files],
        labels=identity.labels(),
    )


def unit_id(unit: ImportUnit, digests: dict[str, Digests]) -> str:
    """A model's id: its weights' content, so the same model gets the same id anywhere.

    One weights file: the start of its BLAKE3. Several (shards, a diffusers
    pipeline): a BLAKE3 over their sorted digests, so a pipeline that shares
    its UNet with another but has its own VAE is a different model.
    Companions (previews, configs) do not change the id.
    """
    weights = sorted(digests[f.name].blake3 for f in unit.weights)
    if len(weights) == 1:
        return weights[0][:ID_LENGTH]
    return blake3.blake3("\n".join(weights).encode()).hexdigest()[:ID_LENGTH]


def _staged_names(unit: ImportUnit) -> dict[str, str]:
    """Each file's name in the model folder: every '/'-separated part made safe
    (diffusers folders keep their shape), no two alike."""
    return safe_relative_names(f.name for f in unit.files)


def _inside(root: Path, path: Path) -> bool:
    """Does `path` (its folder resolved: the file may be a link) lie in `root`?"""
    return is_within(os.path.realpath(path.parent), os.path.realpath(root))


def _size(path: Path, default: int = 0) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return default
