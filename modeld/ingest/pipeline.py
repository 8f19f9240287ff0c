"""The import pipeline: units in, one outcome each out.

    inspect (content) ─▶ stage (link+hash, or copy+hash; stage.py) ─▶ describe
    ─▶ commit in a batch (commit.py): dedupe (BLAKE3) ─▶ metadata.json ─▶ one
    flush ─▶ place (rename folders) ─▶ index (one transaction) ─▶ remove
    move-mode sources

`import_paths` stages units one after another and commits them in batches;
`import_unit` (the daemon's workers) commits each unit together with those
other workers staged meanwhile (group.py). A refused or failed unit is a
value (`Failed`, `Waiting`, `Quarantined`, `Duplicate`) that flows to the
report, not an exception thrown past the journal. Every unit is in the
journal before its first file is staged, so `recover()` can finish or undo
it after a crash.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path

from modeld.after_import import AfterImport, NewModel, StepQueue
from modeld.config import Config
from modeld.control import events
from modeld.ingest import attach, stage
from modeld.ingest import journal as journal_ops
from modeld.ingest.commit import Committer
from modeld.ingest.errors import ImportCancelled, NoOwner
from modeld.ingest.formats import Dangerous, Refused
from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.group import GroupCommit
from modeld.ingest.outcomes import (
    Attached,
    Duplicate,
    Failed,
    Imported,
    ImportReport,
    Outcome,
    OutcomeSink,
    Quarantined,
    Waiting,
    problem_outcome,
)
from modeld.ingest.place import describe_os_error
from modeld.ingest.planner import plan_units
from modeld.ingest.quarantine import quarantine_file
from modeld.ingest.recovery import recover
from modeld.ingest.stage import StagedUnit, StageError
from modeld.ingest.units import ImportUnit
from modeld.library.layout import library_available, staging_dir
from modeld.vocab.paths import is_within

__all__ = [
    "Attached",
    "Duplicate",
    "Failed",
    "ImportCancelled",
    "ImportReport",
    "Imported",
    "Importer",
    "Outcome",
    "ProgressSink",
    "Quarantined",
    "Waiting",
    "recover",
]

log = logging.getLogger(__name__)


ProgressSink = Callable[[int, int], None]
"""Called with (bytes done, bytes total) for the unit being imported."""


# A batch closes at this many units or bytes: enough to spread the flush and
# the journal over hundreds of small files, small enough that memory stays
# flat and a big file is not held back long behind others.
BATCH_UNITS = 256
BATCH_BYTES = 1 << 30


class Importer:
    """Imports units into the library. Thread-safe: workers may call it concurrently."""

    def __init__(
        self,
        config: Config,
        *,
        on_event: Callable[[events.Event], None] | None = None,
        after_import: Iterable[AfterImport] = (),
    ):
        self.config = config
        self.root = config.library_root
        self.journal = journal_ops.Journal(config.journal_path)
        self.on_event = on_event or (lambda event: None)
        self.after_import = list(after_import)
        self.committer = Committer(self.root, self.journal)
        self.group = GroupCommit(self._commit_and_emit)
        # the steps after an import (links, Hub) of units committed in groups run
        # on a thread of their own: the next commit does not wait for them
        self._steps = StepQueue(self._after_import) if self.after_import else None

    # -- entry points -----------------------------------------------------

    def import_paths(
        self,
        paths: Iterable[Path],
        *,
        copy: bool,
        boundary: Path | None = None,
        progress: ProgressSink | None = None,
    ) -> ImportReport:
        """Stage unit after unit; commit them in batches (see commit.py)."""
        report = ImportReport()
        self.import_into(report, paths, copy=copy, boundary=boundary, progress=progress)
        return report

    def import_into(
        self,
        report: OutcomeSink,
        paths: Iterable[Path],
        *,
        copy: bool,
        boundary: Path | None = None,
        progress: ProgressSink | None = None,
    ) -> None:
        """`import_paths`, each outcome handed to `report` as it happens."""
        units, problems = plan_units([Path(p) for p in paths], boundary=boundary)
        for problem in problems:
            report.add(self._emit(problem_outcome(problem)))
        batch: list[StagedUnit] = []
        size = 0

        def commit() -> None:
            nonlocal size
            for outcome in self._commit(batch):
                report.add(self._emit(outcome))
            batch.clear()
            size = 0

        for unit in units:
            if unit.kind == "companion":
                commit()  # its owner may be in the batch: in the library first
            staged = self.stage_unit(unit, copy=copy, progress=progress)
            if isinstance(staged, StagedUnit):
                batch.append(staged)
                size += staged.meta.size
                if len(batch) >= BATCH_UNITS or size >= BATCH_BYTES:
                    commit()
            else:
                report.add(self._emit(staged))
        commit()

    def import_unit(
        self, unit: ImportUnit, *, copy: bool, progress: ProgressSink | None = None
    ) -> Outcome:
        """One unit, committed together with any that other threads staged meanwhile."""
        return self.submit_unit(unit, copy=copy, progress=progress).result()

    def submit_unit(
        self, unit: ImportUnit, *, copy: bool, progress: ProgressSink | None = None
    ) -> Future[Outcome]:
        """Stage `unit` in this thread and queue it for the group commit (group.py):
        the future completes once it is committed, so a worker can stage the next."""
        staged = self.stage_unit(unit, copy=copy, progress=progress)
        if isinstance(staged, StagedUnit):
            return self._then_steps(staged, self.group.submit(staged))
        done: Future[Outcome] = Future()
        done.set_result(self._emit(staged))
        return done

    # -- the stages -------------------------------------------------------

    def stage_unit(
        self, unit: ImportUnit, *, copy: bool, progress: ProgressSink | None = None
    ) -> StagedUnit | Outcome:
        """Inspect and stage a unit; an outcome when it ends here (refused, a companion...)."""
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
        record: journal_ops.UnitRecord | None = None
        try:
            record = stage.plan(staging_dir(self.root), unit, copy=copy)
            digests = stage.stage_files(unit, record, self.journal, _counter(progress, total))
            # described outside any lock: identification is pure
            meta = stage.describe(unit, inspected, digests)
            return StagedUnit(unit, inspected, record, digests, meta)
        except StageError as stop:
            self._undo(record)
            return stop.outcome
        except ImportCancelled as cancelled:
            self._undo(record)
            return Waiting(source, f"interrupted: {cancelled}")
        except OSError as exc:
            self._undo(record)
            return Failed(source, describe_os_error(exc, unit.source))

    def _undo(self, record: journal_ops.UnitRecord | None) -> None:
        if record is not None:
            journal_ops.undo(self.journal, record)

    def _commit(self, batch: list[StagedUnit]) -> list[Outcome]:
        if not batch:
            return []
        outcomes = self.committer.commit(batch)
        self._after_import(
            [
                NewModel(staged.meta, staged.sniffed.details)
                for staged, outcome in zip(batch, outcomes, strict=True)
                if isinstance(outcome, Imported)
            ]
        )
        return outcomes

    def _commit_and_emit(self, batch: list[StagedUnit]) -> list[Outcome]:
        return [self._emit(outcome) for outcome in self.committer.commit(batch)]

    def _then_steps(self, staged: StagedUnit, committed: Future[Outcome]) -> Future[Outcome]:
        """The unit's future, completed once its after-import steps ran too."""
        steps = self._steps
        if steps is None:
            return committed
        done: Future[Outcome] = Future()

        def follow(future: Future[Outcome]) -> None:
            outcome = future.result()
            if not isinstance(outcome, Imported):
                done.set_result(outcome)
                return
            ran = steps.submit(NewModel(staged.meta, staged.sniffed.details))
            ran.add_done_callback(lambda _: done.set_result(outcome))

        committed.add_done_callback(follow)
        return done

    def _after_import(self, models: list[NewModel]) -> None:
        """Each step once for the models of one commit (see after_import.py)."""
        if not models:
            return
        for hook in self.after_import:
            try:
                hook(models)
            except Exception:  # a hook (links, hub) must never undo an import
                log.exception(
                    "post-import step failed for %d model(s), the first %s",
                    len(models),
                    models[0].meta.id,
                )

    def _attach(self, source: Path, *, copy: bool) -> Outcome:
        try:
            owner = attach.find_owner(self.root, source.name)
            meta, changed = attach.attach(self.root, self.journal, source, owner, copy=copy)
        except (NoOwner, FileExistsError) as exc:  # their messages say why
            return Failed(str(source), str(exc))
        except OSError as exc:
            return Failed(str(source), describe_os_error(exc, source))
        if not changed:
            return Duplicate(str(source), meta.id)
        self._after_import([NewModel(meta, None)])
        return Attached(str(source), meta.model_object(owner.folder))

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


def _counter(progress: ProgressSink | None, total: int) -> Callable[[int], None] | None:
    """Per-chunk byte counts as the (done, total) a ProgressSink wants."""
    if progress is None:
        return None
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        progress(done, total)

    return advance


def _inside(root: Path, path: Path) -> bool:
    """Does `path` (its folder resolved: the file may be a link) lie in `root`?"""
    return is_within(os.path.realpath(path.parent), os.path.realpath(root))


def _size(path: Path, default: int = 0) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return default
