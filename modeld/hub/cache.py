"""Answers from the Hub, cached by the file's sha256: hits and misses alike, with a TTL.

A miss is worth remembering as much as a hit: without it every retry, rescan
or re-import would search the Hub again for a file it does not hold. Only
answers are cached; "could not ask" (offline, failing) never is. The table
lives in the index database, which is a cache itself: losing it costs calls,
never facts (confirmed matches are in each model's metadata.json).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from peewee import CharField, FloatField, TextField

from modeld.hub.lookup import LookupOutcome, Suggestion
from modeld.hub.lookupstate import LookupState
from modeld.library.db import IndexModel, register_tables


class HubCacheEntry(IndexModel):
    sha256 = CharField(primary_key=True)
    status = CharField()  # confirmed | miss (the table's words since its first rows)
    hub = TextField(null=True)  # JSON: the hub section of a confirmed match
    suggestions = TextField(default="[]")  # JSON list
    checked_at = FloatField()  # unix time of the answer

    class Meta:
        table_name = "hub_cache"


register_tables(HubCacheEntry)

# The status column's words: a miss is one word here, whether it has suggestions or not
_CONFIRMED = LookupState.CONFIRMED.value
_MISS = LookupState.NOT_FOUND.recorded


class HubCache:
    def __init__(self, ttl_seconds: float, now: Callable[[], float] = time.time):
        self.ttl = ttl_seconds
        self._now = now

    def get(self, sha256: str) -> LookupOutcome | None:
        """The cached answer for this content, if there is one younger than the TTL."""
        entry = HubCacheEntry.get_or_none(HubCacheEntry.sha256 == sha256.lower())
        if entry is None or entry.checked_at + self.ttl <= self._now():
            return None
        suggestions = tuple(Suggestion(**s) for s in json.loads(entry.suggestions))
        confirmed = entry.status == _CONFIRMED
        return LookupOutcome(
            LookupState.CONFIRMED if confirmed else LookupState.missed(suggestions),
            hub=json.loads(entry.hub) if entry.hub else None,
            suggestions=suggestions,
        )

    def put(self, sha256: str, outcome: LookupOutcome) -> None:
        if not outcome.state.answered:
            raise ValueError(f"only answers are cached, not {outcome.state!r}")
        confirmed = outcome.state is LookupState.CONFIRMED
        HubCacheEntry.insert(
            sha256=sha256.lower(),
            status=_CONFIRMED if confirmed else _MISS,
            hub=json.dumps(outcome.hub) if outcome.hub else None,
            suggestions=json.dumps([s.as_dict() for s in outcome.suggestions]),
            checked_at=self._now(),
        ).on_conflict_replace().execute()
