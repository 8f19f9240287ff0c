"""What an import becomes: units of files, each one model, or a problem with a reason.

A unit is what becomes ONE model: a single file, a sharded set, or a
diffusers folder, each with its companion files (previews, configs,
sidecars). Anything that cannot safely become part of a unit is a `Problem`
with a reason; `retry=True` means "wait, it may resolve itself" (a shard set
still arriving). The planner (`planner.plan_units`) builds both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# the folders of a diffusers pipeline's denoiser: what makes the model itself
DENOISER_FOLDERS = frozenset({"unet", "transformer", "prior", "decoder"})


@dataclass(frozen=True)
class UnitFile:
    path: Path  # where it is now
    name: str  # where it goes, relative to the model folder ('/'-separated)
    role: str  # weights | companion


@dataclass(frozen=True)
class ImportUnit:
    kind: str  # file | sharded | diffusers | companion (a lone one, for a library model)
    name: str  # the human name of the model, from the file or folder
    files: tuple[UnitFile, ...]
    # chosen once, at planning: after a move import the sources are gone and
    # their sizes could no longer tell which file is the primary
    primary: UnitFile = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "primary", self._choose_primary())

    @property
    def weights(self) -> list[UnitFile]:
        """The weights files (or every file, for a unit without any)."""
        return [f for f in self.files if f.role == "weights"] or list(self.files)

    def _choose_primary(self) -> UnitFile:
        """The largest weights file: its hashes identify the model.

        In a diffusers folder, the largest file of the denoiser (unet/,
        transformer/): text encoders and VAEs are shared between models, the
        denoiser is what makes this one itself.
        """
        weights = self.weights
        if self.kind == "diffusers":
            denoiser = [f for f in weights if f.name.split("/", 1)[0] in DENOISER_FOLDERS]
            weights = denoiser or weights
        return max(weights, key=lambda f: (_size(f.path), f.name))

    @property
    def source(self) -> Path:
        return self.primary.path


@dataclass(frozen=True)
class Problem:
    path: Path
    reason: str
    retry: bool = False
    # for a companion waiting on the model beside it: that model's file
    owner: Path | None = None


def companion_unit(path: Path) -> ImportUnit:
    """A lone companion (a late preview): the importer attaches it to a library model."""
    return ImportUnit("companion", path.name, (UnitFile(path, path.name, "companion"),))


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return -1
