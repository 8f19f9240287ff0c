"""Which models still wait for a Hub lookup, so a scheduled job can retry them.

metadata.json holds each model's lookup state (`hub_lookup`) as the source of
truth; this table mirrors it in the index so "what is due?" is one query.
A model with no row and no `hub` was never looked up (imported while the
hub was disabled or unreachable, or the index was rebuilt) and is due too.
"""

from __future__ import annotations

import time

from peewee import CharField, FloatField, IntegerField, ModelSelect, TextField

from modeld.hub.lookupstate import LookupState
from modeld.library.db import IndexModel, ModelRecord, register_tables

# the recorded words: pending ones are retried, misses once the cached miss expires
_DONE = LookupState.CONFIRMED.recorded
_MISS = LookupState.NOT_FOUND.recorded


class HubLookupRecord(IndexModel):
    model_id = CharField(primary_key=True)
    state = CharField(index=True)  # LookupState.recorded: done | miss | pending
    attempts = IntegerField(default=0)
    last_attempt = FloatField(null=True)  # unix time
    error = TextField(null=True)

    class Meta:
        table_name = "hub_lookups"


register_tables(HubLookupRecord)


def record_state(
    model_id: str,
    state: LookupState,
    *,
    attempts: int,
    last_attempt: float,
    error: str | None = None,
) -> None:
    HubLookupRecord.insert(
        model_id=model_id,
        state=state.recorded,
        attempts=attempts,
        last_attempt=last_attempt,
        error=error,
    ).on_conflict_replace().execute()


def due_model_ids(miss_ttl_seconds: float, now: float | None = None) -> list[str]:
    """Models to look up: pending ones, never-tried ones, and misses older than the TTL."""
    query = _due(miss_ttl_seconds, now).order_by(ModelRecord.imported_at)
    return [row.model_id for row in query]


def due_count(miss_ttl_seconds: float, now: float | None = None) -> int:
    return _due(miss_ttl_seconds, now).count()


def _due(miss_ttl_seconds: float, now: float | None) -> ModelSelect[ModelRecord]:
    now = time.time() if now is None else now
    settled = HubLookupRecord.select(HubLookupRecord.model_id).where(
        (HubLookupRecord.state == _DONE)
        | (
            (HubLookupRecord.state == _MISS)
            & (HubLookupRecord.last_attempt > now - miss_ttl_seconds)
        )
    )
    return ModelRecord.select(ModelRecord.model_id).where(
        ModelRecord.hub.is_null() & ModelRecord.model_id.not_in(settled)
    )


def forget_missing_models() -> int:
    """Drop rows of models that are gone from the index."""
    known = ModelRecord.select(ModelRecord.model_id)
    removed: int = HubLookupRecord.delete().where(HubLookupRecord.model_id.not_in(known)).execute()
    return removed
