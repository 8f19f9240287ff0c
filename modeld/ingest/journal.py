"""A small journal of in-flight imports, so a crash at any moment is recoverable.

Staging needs no entry: a same-device move stages a hard link and a copy
stages a copy, so no source is touched before its unit commits, and a staging
folder no entry names is swept by `sweep_staging` (its name says whether it
holds links or copies). Two kinds of entry remain, one JSON file each:

- a batch entry: the units of one group commit (`UnitRecord`s, stage
  `placing`), each with its sources and its model folder, written and then
  flushed together with all the staged bytes, before the first staging
  folder is renamed into place;
- a unit entry, durable, for a move on a file system without hard links:
  written before the rename that takes the source away (attach's staging
  uses one too).

`recover` runs at start-up. A unit whose folder is in place (its metadata.json
names its id) rolls forward: index it, remove its move-mode sources that did
not change. Any other unit rolls back: renamed sources go back, staged links
and copies are dropped (kept in `recovered/` if their source is gone). Either
way every file ends up at its source or whole in the library, indexed once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from modeld.vocab.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

Pairs = list[list[str]]  # [source, staged] pairs, as JSON keeps them
LINKS, COPIES = "link", "copy"  # the staging folders' name prefixes


@dataclass
class UnitRecord:
    """One unit's import, as the journal keeps it (entries of older versions read too)."""

    mode: str  # "move" | "copy"
    staging: str
    stage: str = "staging"  # "staging" | "placing" (in a batch) | "committed" (older entries)
    sources: dict[str, list[int]] = field(default_factory=dict)  # source -> stat_key
    linked: Pairs = field(default_factory=list)  # hard links: the source stays until commit
    renamed: Pairs = field(default_factory=list)  # no hard links here: the source is gone
    copied: Pairs = field(default_factory=list)
    folder: str | None = None  # where the staging folder goes (set in a batch)
    model_id: str | None = None
    entry_id: str | None = None  # its own unit entry, if it has one (see `write_unit`)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UnitRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class JournalEntry:
    """A unit entry (`units` holds one, stage staging) or a batch entry (several, placing)."""

    path: Path
    units: list[UnitRecord]
    owner: str = ""  # the process writing it, see `_owner`
    batch: bool = False

    @property
    def id(self) -> str:
        return self.path.stem

    @property
    def unit(self) -> UnitRecord:
        return self.units[0]

    def write(self, *, durable: bool) -> None:
        document = {
            "owner": self.owner,
            "batch": self.batch,
            "units": [asdict(unit) for unit in self.units],
        }
        data = json.dumps(document, separators=(",", ":")).encode()  # surrogates: \\u escapes
        if durable:
            atomic_write_bytes(self.path, data)
        else:
            # a new file, written once: only a kill can leave it torn, and then
            # before the flush, so before any folder was placed (read: unreadable)
            self.path.write_bytes(data)

    def finish(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class Journal:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def begin(self, **unit: Any) -> JournalEntry:
        """A durable unit entry (attach's staging)."""
        unit.pop("stage", None)
        entry = JournalEntry(self._new_path(), [UnitRecord(**unit)], _owner())
        entry.write(durable=True)
        return entry

    def write_unit(self, record: UnitRecord) -> None:
        """Make `record` durable in its own unit entry (created the first time)."""
        if record.entry_id is None:
            record.entry_id = self._new_path().stem
        path = self.folder / f"{record.entry_id}.json"
        JournalEntry(path, [record], _owner()).write(durable=True)

    def forget_unit(self, record: UnitRecord) -> None:
        if record.entry_id is not None:
            (self.folder / f"{record.entry_id}.json").unlink(missing_ok=True)

    def begin_batch(self, units: list[UnitRecord]) -> JournalEntry:
        """A batch entry, written but not flushed: the caller's one flush covers it."""
        entry = JournalEntry(self._new_path(), units, _owner(), batch=True)
        entry.write(durable=False)
        return entry

    def entries(self) -> list[JournalEntry]:
        """Every entry but those of a process still running (a CLI import beside the daemon)."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                data = json.loads(path.read_text())
                entry = _parse(path, data)
            except (OSError, ValueError, TypeError, KeyError):
                log.warning("unreadable journal entry %s left for inspection", path)
                continue
            if not _alive(entry.owner):
                found.append(entry)
        # batches first: each names the unit entries it replaces
        return sorted(found, key=lambda entry: not entry.batch)

    def _new_path(self) -> Path:
        return self.folder / f"{uuid.uuid4().hex}.json"


def _parse(path: Path, data: dict[str, Any]) -> JournalEntry:
    if "units" not in data:  # an entry written before batches: the unit's fields at the top
        return JournalEntry(path, [UnitRecord.from_json(data)])
    units = [UnitRecord.from_json(unit) for unit in data["units"]]
    return JournalEntry(path, units, data.get("owner", ""), bool(data.get("batch")))


def sweep_staging(staging_root: Path) -> int:
    """Remove the staging folders of dead processes (run after their entries are handled).

    Their sources were never touched. A staged link whose inode has no other
    name left (the user deleted the source meanwhile) holds the only copy of
    those bytes: it goes to `recovered/`. Returns the folders removed.
    """
    removed = 0
    for folder in sorted(staging_root.glob(f"[{LINKS[0]}{COPIES[0]}]*-*-*")):
        kind, _, rest = folder.name.partition("-")
        pid = rest.partition("-")[0]
        if kind not in (LINKS, COPIES) or _alive(f"{_BOOT}:{pid}"):
            continue
        if kind == LINKS:
            for path in sorted(folder.rglob("*")):
                ours = path.parent == folder and path.name == "metadata.json"
                alone = path.is_file() and not path.is_symlink() and path.stat().st_nlink == 1
                if alone and not ours:
                    rescue = staging_root.parent / "recovered" / folder.name / path.name
                    rescue.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(path, rescue)
                    log.warning("source of %s vanished; kept it in %s", path, rescue)
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


_BOOT = _boot_id()


def _owner() -> str:
    return f"{_BOOT}:{os.getpid()}"


def _alive(owner: str) -> bool:
    """Is the process that wrote an entry still running (this boot, not this process)?"""
    boot, _, pid = owner.rpartition(":")
    if not pid.isdigit() or boot != _BOOT or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    """Undo every unit of an entry: sources back, staged links and copies gone."""
    for unit in entry.units:
        roll_back_unit(unit)
    entry.finish()


def undo(journal: Journal, unit: UnitRecord) -> None:
    """Roll back a unit that will not commit, and drop its unit entry if it has one."""
    roll_back_unit(unit)
    journal.forget_unit(unit)


def roll_back_unit(unit: UnitRecord) -> None:
    staging = Path(unit.staging)
    for source, staged in map(_paths, unit.renamed):
        if staged.exists() and not source.exists():
            source.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, source)
            log.debug("put %s back at its source", source)
    if staging.exists():
        _drop_staging(staging, unit)


def _paths(pair: list[str]) -> tuple[Path, Path]:
    return Path(pair[0]), Path(pair[1])


def _drop_staging(staging: Path, unit: UnitRecord) -> None:
    """Remove a staging folder, but never a file whose source is gone."""
    for source, staged in map(_paths, [*unit.copied, *unit.linked]):
        if staged.exists() and not source.exists():
            rescue = staging.parent.parent / "recovered" / staging.name
            rescue.mkdir(parents=True, exist_ok=True)
            os.rename(staged, rescue / staged.name)
            log.warning("source of %s vanished; kept the copy in %s", staged, rescue)
    shutil.rmtree(staging, ignore_errors=True)


def remove_moved_sources(unit: UnitRecord) -> list[str]:
    """After commit in move mode: remove the sources that did not change since hashing.

    A linked source is the library file's other name (same inode), so its
    unchanged stat key is the proof; a copied one's too, as before.
    """
    kept: list[str] = []
    if unit.mode != "move":
        return kept
    renamed = {source for source, _ in unit.renamed}
    for source, recorded in unit.sources.items():
        path = Path(source)
        if source in renamed or not os.path.lexists(path):
            continue  # renamed into the library: nothing left at the source
        if source_unchanged(path, recorded):
            path.unlink()
        else:
            kept.append(source)
            log.warning("%s changed after it was copied; left in place", source)
    return kept
