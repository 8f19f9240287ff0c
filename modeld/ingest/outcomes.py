"""What one import unit came to, and the report of a one-off import.

An outcome is a value, not an exception: it flows to the report (`modeld
import`), the ledger and status (watched files) and the event stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

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


ReportList = Literal["imported", "duplicates", "quarantined", "failed", "waiting"]


def report_entry(outcome: Outcome) -> tuple[ReportList, dict[str, Any]]:
    """Where an outcome goes in the `import --json` document, and as what (what is
    still waiting goes to `failed` after the failures: see ImportReport.to_json)."""
    match outcome:
        case Imported(model=model) | Attached(model=model):
            return "imported", model  # the contract's model object: the updated model
        case Duplicate(path=path, id=model_id):
            return "duplicates", {"path": path, "id": model_id}
        case Quarantined(path=path, reason=reason):
            return "quarantined", {"path": path, "reason": reason}
        case Failed(path=path, reason=reason):
            return "failed", {"path": path, "reason": reason}
        case Waiting(path=path, reason=reason):
            return "waiting", {"path": path, "reason": reason}


class OutcomeSink(Protocol):
    """Takes each outcome of a one-off import as it happens (ImportReport keeps them;
    the CLI prints each and keeps counts, so a big import's memory stays flat)."""

    def add(self, outcome: Outcome) -> None: ...


@dataclass
class ImportReport:
    imported: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        key, entry = report_entry(outcome)
        lists = {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "failed": self.failed,
            "waiting": self.waiting,
        }
        lists[key].append(entry)

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
