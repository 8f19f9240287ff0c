"""The daemon's events: one frozen dataclass per kind, the schema of the event stream.

In the daemon an event is one of these values; on the socket it is the JSON
object `to_json` makes, with the bus's `time` in front:
    {"time": <unix>, "event": "<kind>", ...the fields, in the order declared here}
A client may turn a line back into its value with `parse_event`.

The kinds of an import's end (imported, attached, duplicate, quarantined,
failed) are the `status` words of the import outcomes that announce them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, **{f.name: getattr(self, f.name) for f in fields(self)}}


@dataclass(frozen=True)
class StateChanged(Event):
    kind = "state"
    state: str  # running | paused


@dataclass(frozen=True)
class ImportStarted(Event):
    kind = "import_started"
    path: str
    total: int


@dataclass(frozen=True)
class Progress(Event):
    """Throttled by the bus to a few a second per path."""

    kind = "progress"
    path: str
    done: int
    total: int


@dataclass(frozen=True)
class Imported(Event):
    kind = "imported"
    path: str
    model: dict[str, Any]  # the contract's model object


@dataclass(frozen=True)
class Attached(Event):
    """A late companion (a preview) joined model `id`."""

    kind = "attached"
    path: str
    id: str


@dataclass(frozen=True)
class Duplicate(Event):
    kind = "duplicate"
    path: str
    id: str


@dataclass(frozen=True)
class Quarantined(Event):
    kind = "quarantined"
    path: str
    reason: str


@dataclass(frozen=True)
class Failed(Event):
    kind = "failed"
    path: str
    reason: str


@dataclass(frozen=True)
class Waiting(Event):
    """A watched file parked until it changes (truncated, an incomplete shard set)."""

    kind = "waiting"
    path: str
    reason: str


@dataclass(frozen=True)
class LinksRepaired(Event):
    kind = "links_repaired"
    fixed: int
    unfixed: int


@dataclass(frozen=True)
class HubState(Event):
    kind = "hub"
    state: str  # online | offline
    next_try: float | None  # seconds until the next attempt while offline


@dataclass(frozen=True)
class HubMatch(Event):
    """A model confirmed on the Hub by its sha256."""

    kind = "hub_match"
    id: str
    repo_id: str


@dataclass(frozen=True)
class LibraryState(Event):
    kind = "library"
    state: str  # online | offline


# the kinds that end one file's import: progress throttling and followers stop there
FINISHED = (Imported, Attached, Duplicate, Quarantined, Failed)

KINDS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        StateChanged,
        ImportStarted,
        Progress,
        Imported,
        Attached,
        Duplicate,
        Quarantined,
        Failed,
        Waiting,
        LinksRepaired,
        HubState,
        HubMatch,
        LibraryState,
    )
}


def parse_event(message: Mapping[str, Any]) -> Event | None:
    """The value of one event line; None for a kind this client does not know
    (a newer daemon) or a line that lacks one of its kind's fields."""
    cls = KINDS.get(str(message.get("event")))
    if cls is None:
        return None
    try:
        return cls(**{f.name: message[f.name] for f in fields(cls)})
    except KeyError:
        return None
