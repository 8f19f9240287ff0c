"""What a sync or repair pass did, as one JSON-able value: counts, and what needs eyes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from modeld.links.relocate import Relocated
from modeld.links.sites import AppDescription


@dataclass
class LinkReport:
    library: str = "online"  # online | offline (then nothing was changed)
    models: int = 0  # models looked at
    created: int = 0  # new links
    unchanged: int = 0  # links found correct
    recreated: int = 0  # registered links that were gone, made again
    repointed: int = 0  # registered links re-aimed at their model
    adopted: int = 0  # unregistered links into the library, now registered
    removed: int = 0  # our links removed (model gone, no longer wanted, or dangling orphans)
    released: int = 0  # registered paths now holding a real file: forgotten, never touched
    unfixed: int = 0  # problems left as they are, each in `problems`
    relocated: Relocated = field(default_factory=Relocated)  # library/app moves handled
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    apps: list[AppDescription] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return self.recreated + self.repointed + self.adopted + self.removed

    def problem(self, **fields: Any) -> None:
        self.problems.append(fields)

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["fixed"] = self.fixed
        return document
