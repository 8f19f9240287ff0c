"""Group the files found under the given paths into import units.

A unit is what becomes ONE model: a single file, a sharded set, or a
diffusers folder, each with its companion files (previews, configs,
sidecars).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class UnitFile:
    path: Path  # where it is now
    name: str  # where it goes, relative to the model folder ('/'-separated)
    role: str  # weights | companion


@dataclass(frozen=True)
class ImportUnit:
    kind: str  # file | sharded | diffusers
    name: str  # the human name of the model, from the file or folder
    files: tuple[UnitFile, ...]

    @property
    def primary(self) -> UnitFile:
        """The largest weights file: its hashes identify the model."""
        weights = [f for f in self.files if f.role == "weights"] or list(self.files)
        return max(weights, key=lambda f: (_size(f.path), f.name))

    @property
    def source(self) -> Path:
        return self.primary.path


@dataclass(frozen=True)
class Problem:
    path: Path
    reason: str
    retry: bool = False


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return -1


def walk_files(path: Path) -> Iterator[Path]:
    """Every regular file under `path`, without following directory symlinks."""
    if not path.is_dir() or path.is_symlink():
        yield path
        return
    for folder, dirs, files in os.walk(path, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            yield Path(folder) / name


def plan_units(
    paths: Iterable[Path], *, boundary: Path | None = None
) -> tuple[list[ImportUnit], list[Problem]]:
    """Units under `paths`; `boundary` is the drop folder symlinks must not leave."""
    units: list[ImportUnit] = []
    for root in paths:
        for file in walk_files(root):
            stem = file.name.rsplit(".", 1)[0] if "." in file.name else file.name
            units.append(ImportUnit("file", stem, (UnitFile(file, file.name, "weights"),)))
    return units, []
