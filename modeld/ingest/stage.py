"""Staging: a unit's files brought into a staging folder, hashed, described.

Nothing here flushes and no source is touched: a same-device move stages a
hard link (the source name goes only after the commit, see commit.py) and a
copy leaves its source alone. So one flush per batch of units, in commit.py,
makes everything staged durable, instead of a flush per file, and staging
needs no journal entry of its own: a kill while staging leaves a staging
folder that no entry names, which `recover` sweeps (journal.sweep_staging).

    inspect ─▶ plan (links or copies) ─▶ link+hash or copy+hash each file
    ─▶ re-check each source ─▶ describe (ModelMeta)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import blake3

from modeld.ingest import journal as journal_ops
from modeld.ingest.errors import IngestError
from modeld.ingest.formats import Sniffed
from modeld.ingest.identify import identify
from modeld.ingest.outcomes import Outcome, Waiting
from modeld.ingest.place import same_device
from modeld.ingest.units import ImportUnit
from modeld.library.metadata import FileEntry, ModelMeta
from modeld.vocab.hashing import Digests, ProgressFn, copy_and_hash, hash_file
from modeld.vocab.naming import display_name, safe_relative_names

ID_LENGTH = 16


class StageError(IngestError):
    """A unit that cannot be staged as it is: its outcome says why."""

    def __init__(self, outcome: Outcome):
        super().__init__(getattr(outcome, "reason", ""))
        self.outcome = outcome


@dataclass
class StagedUnit:
    """A unit whose files are all in `staging`, hashed and described, not yet committed."""

    unit: ImportUnit
    sniffed: Sniffed
    record: journal_ops.UnitRecord  # what roll-back and the batch's journal entry need
    digests: dict[str, Digests]
    meta: ModelMeta

    @property
    def staging(self) -> Path:
        return Path(self.record.staging)


def plan(staging_root: Path, unit: ImportUnit, *, copy: bool) -> journal_ops.UnitRecord:
    """Where each file of the unit will be staged, and how. Links only when every file
    is on the library's device: a staging folder holds one kind, as its name says."""
    link = not copy and all(same_device(f.path, staging_root) for f in unit.files)
    kind = journal_ops.LINKS if link else journal_ops.COPIES
    staging = staging_root / f"{kind}-{os.getpid()}-{time.monotonic_ns()}"
    names = staged_names(unit)
    pairs = [[str(f.path), str(staging / names[f.name])] for f in unit.files]
    mode = "copy" if copy else "move"
    if link:
        return journal_ops.UnitRecord(mode=mode, staging=str(staging), linked=pairs)
    return journal_ops.UnitRecord(mode=mode, staging=str(staging), copied=pairs)


def stage_files(
    unit: ImportUnit,
    record: journal_ops.UnitRecord,
    journal: journal_ops.Journal,
    progress: ProgressFn | None,
) -> dict[str, Digests]:
    """Bring every file into the staging folder, hashing each byte once."""
    Path(record.staging).mkdir(parents=True)
    staged_of = {source: Path(staged) for source, staged in [*record.linked, *record.copied]}
    linked = {source for source, _ in record.linked}
    digests: dict[str, Digests] = {}
    for file in unit.files:
        source = str(file.path)
        staged = staged_of[source]
        staged.parent.mkdir(parents=True, exist_ok=True)
        before = journal_ops.stat_key(file.path)
        record.sources[source] = before
        if source in linked:
            _link_or_rename(file.path, staged, record, journal)
            digests[file.name] = hash_file(staged, progress)
            after = journal_ops.stat_key(staged)
        else:
            # no fsync of its own: the batch's flush in commit.py makes it durable
            digests[file.name] = copy_and_hash(file.path, staged, progress, fsync=False)
            after = journal_ops.stat_key(file.path)
        # a file that changed while we read it was not finished
        if after[:2] != before[:2] or digests[file.name].size != before[0]:
            raise StageError(Waiting(source, "file changed while it was being imported"))
    return digests


def _link_or_rename(
    source: Path, staged: Path, record: journal_ops.UnitRecord, journal: journal_ops.Journal
) -> None:
    """A hard link: the source stays until its unit commits. A file system without
    hard links gets a rename, in a journal entry made durable first (the source is
    gone after it); the unit's roll-back, or recover(), puts it back."""
    try:
        os.link(source, staged, follow_symlinks=False)
    except OSError:
        pair = [str(source), str(staged)]
        record.linked.remove(pair)
        record.renamed.append(pair)
        journal.write_unit(record)
        os.rename(source, staged)


def describe(unit: ImportUnit, sniffed: Sniffed, digests: dict[str, Digests]) -> ModelMeta:
    """The metadata of a hashed unit about to enter the library (pure)."""
    primary = digests[unit.primary.name]
    identity = identify(unit, sniffed)
    names = staged_names(unit)
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
                name=names[f.name],
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


def staged_names(unit: ImportUnit) -> dict[str, str]:
    """Each file's name in the model folder: every '/'-separated part made safe
    (diffusers folders keep their shape), no two alike."""
    return safe_relative_names(f.name for f in unit.files)
