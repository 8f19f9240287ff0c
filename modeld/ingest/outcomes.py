"""What one import unit came to, and the report of a one-off import.

An outcome is a value, not an exception: it flows to the report (`modeld
import`), the ledger and status (watched files) and the event stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from modeld.control import events
from modeld.ingest.units import Problem

# Each outcome has its `status` (the one word the ledger, the event kinds and the
# status counters use) and its announcement on the event stream (`event`).


@dataclass(frozen=True)
class Imported:
    status: ClassVar[str] = "imported"
    path: str
    model: dict[str, Any]

    def event(self) -> events.Event:
        return events.Imported(self.path, self.model)


@dataclass(frozen=True)
class Attached:
    """A lone companion (a late preview) that joined the library model it is named after."""

    status: ClassVar[str] = "attached"
    path: str
    model: dict[str, Any]

    def event(self) -> events.Event:
        return events.Attached(self.path, self.model["id"])


@dataclass(frozen=True)
class Duplicate:
    status: ClassVar[str] = "duplicate"
    path: str
    id: str

    def event(self) -> events.Event:
        return events.Duplicate(self.path, self.id)


@dataclass(frozen=True)
class Quarantined:
    status: ClassVar[str] = "quarantined"
    path: str
    reason: str

    def event(self) -> events.Event:
        return events.Quarantined(self.path, self.reason)


@dataclass(frozen=True)
class Failed:
    status: ClassVar[str] = "failed"
    path: str
    reason: str

    def event(self) -> events.Event:
        return events.Failed(self.path, self.reason)


@dataclass(frozen=True)
class Waiting:
    """Not ready yet (truncated, incomplete shard set): retried later, not an error yet."""

    status: ClassVar[str] = "waiting"
    path: str
    reason: str

    def event(self) -> None:
        return None  # only a watch that parks the file says so (`waiting`)


Outcome = Imported | Attached | Duplicate | Quarantined | Failed | Waiting


@dataclass
class ImportReport:
    imported: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        match outcome:
            case Imported(model=model) | Attached(model=model):
                self.imported.append(model)  # the contract's model objects: the updated model
            case Duplicate(path=path, id=model_id):
                self.duplicates.append({"path": path, "id": model_id})
            case Quarantined(path=path, reason=reason):
                self.quarantined.append({"path": path, "reason": reason})
            case Failed(path=path, reason=reason):
                self.failed.append({"path": path, "reason": reason})
            case Waiting(path=path, reason=reason):
                self.waiting.append({"path": path, "reason": reason})

    def to_json(self) -> dict[str, Any]:
        """The contract's `import --json` document.

        A report answers a one-off import (the CLI, or `import` through the
        daemon), which has no later retry: what is still waiting has failed
        for now, with its reason. Watched files never make a report.
        """
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "failed": self.failed + self.waiting,
        }


def problem_outcome(problem: Problem) -> Outcome:
    """A unit that could not even be planned: waiting (it may resolve itself) or failed."""
    return (Waiting if problem.retry else Failed)(str(problem.path), problem.reason)
