"""Where one model's Hub lookup stands: the one vocabulary for it (pure).

A lookup's outcome, the result `modeld hub lookup --json` prints and the
state kept in metadata.json (`hub_lookup.state`) and the index all speak it.
metadata.json and the index predate it and keep a coarser word of their own
(done | miss | pending), so each member carries that word too: it is the
only place the two spellings meet.
"""

from __future__ import annotations

from enum import StrEnum


class LookupState(StrEnum):
    """The value is the word in results; `recorded` the word metadata.json keeps."""

    CONFIRMED = "confirmed", "done"  # an exact LFS sha256 match
    UNCONFIRMED = "unconfirmed", "miss"  # no match, but suggestions
    NOT_FOUND = "not_found", "miss"  # asked, nothing found
    PENDING = "pending", "pending"  # the Hub could not be asked; retried later
    DISABLED = "disabled", None  # HF_HUB_OFFLINE or hub.enabled = false: not asked at all
    MISSING = "missing", None  # no such model
    FAILED = "failed", None  # the model's metadata could not be read or written

    recorded: str | None  # None: never written down (nothing was learnt)

    def __new__(cls, value: str, recorded: str | None) -> LookupState:
        member = str.__new__(cls, value)
        member._value_ = value
        member.recorded = recorded
        return member

    @property
    def answered(self) -> bool:
        """The Hub answered (found or not): an answer worth caching."""
        return self in (LookupState.CONFIRMED, LookupState.UNCONFIRMED, LookupState.NOT_FOUND)

    @classmethod
    def missed(cls, suggestions: object) -> LookupState:
        """A lookup that found no match: unconfirmed when it has suggestions."""
        return cls.UNCONFIRMED if suggestions else cls.NOT_FOUND
