"""Enrich one model: look it up (or take the cached answer), fetch the extras of a
confirmed match, and record the outcome; the result says how it went."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeld.config import Config
from modeld.hub import extras
from modeld.hub.cache import HubCache
from modeld.hub.client import HubClient
from modeld.hub.clues import collect_clues
from modeld.hub.errors import ModelChanged
from modeld.hub.folder import basename, header_details, primary_file, read_sidecars
from modeld.hub.lookup import LookupOutcome, Suggestion, find_repo
from modeld.hub.lookupstate import LookupState
from modeld.hub.record import record_outcome
from modeld.library.db import ModelRecord
from modeld.library.layout import METADATA_NAME
from modeld.library.metadata import ModelMeta, read_metadata

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnrichResult:
    """One model's enrichment, as `modeld hub lookup` reports it."""

    id: str
    name: str | None
    state: LookupState
    hub: dict[str, Any] | None = None  # the metadata.json `hub` section, when confirmed
    suggestions: tuple[Suggestion, ...] = ()
    requests: int = 0  # HTTP requests this lookup sent
    cached: bool = False  # answered from the cache or an earlier match, not the Hub
    retry_in: float | None = None  # when pending: seconds until the Hub may be asked again
    error: str | None = None

    @property
    def newly_confirmed(self) -> bool:
        """Confirmed by this very lookup: what links that file by repo wait for."""
        return self.state is LookupState.CONFIRMED and not self.cached

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `modeld hub lookup --json` (status is the state's word)."""
        return {
            "id": self.id,
            "name": self.name,
            "status": self.state.value,
            "hub": self.hub,
            "suggestions": [s.as_dict() for s in self.suggestions],
            "requests": self.requests,
            "cached": self.cached,
            "retry_in": self.retry_in,
            "error": self.error,
        }


class ModelEnricher:
    """Looks models up one at a time, in the calling thread.

    `retry_after(seconds)` hears when the Hub could not be asked, and how soon
    it may be asked again.
    """

    def __init__(
        self,
        config: Config,
        client: HubClient,
        cache: HubCache,
        retry_after: Callable[[float], None],
    ):
        self.config = config
        self.client = client
        self.cache = cache
        self._retry_after = retry_after

    def enrich(
        self, model_id: str, details: Mapping[str, Any] | None, *, refresh: bool = False
    ) -> EnrichResult:
        record = ModelRecord.get_or_none(ModelRecord.model_id == model_id)
        if record is None:
            return EnrichResult(model_id, None, LookupState.MISSING)
        folder = self.config.library_root / record.rel_path
        known = json.loads(record.hub) if record.hub and not refresh else None
        if known and known.get("confirmed"):
            return EnrichResult(
                model_id, record.name, LookupState.CONFIRMED, hub=known, cached=True
            )
        cached = None if refresh else self.cache.get(record.sha256)
        breaker_wait = self.client.breaker().retry_in()
        if cached is None and breaker_wait:
            # down, and the cool-down is not over: do not even try (nor read the disk)
            # (no write either: a model without a settled state is due by definition)
            self._retry_after(breaker_wait)
            return EnrichResult(model_id, record.name, LookupState.PENDING, retry_in=breaker_wait)
        try:
            meta = read_metadata(folder)
        except (OSError, ValueError) as exc:
            log.warning("hub: cannot read %s: %s", folder / METADATA_NAME, exc)
            return EnrichResult(model_id, record.name, LookupState.FAILED, error=str(exc))
        if cached is not None and meta.sha256 == record.sha256:
            return self._record(folder, meta, cached, cached=True)

        outcome = self._look_up(folder, meta, details)
        if outcome.state is LookupState.DISABLED:
            return EnrichResult(meta.id, meta.name, LookupState.DISABLED, error=outcome.error)
        if outcome.state.answered:
            if outcome.requests:
                self.cache.put(meta.sha256, outcome)
            description = None
            if not meta.description:
                description = extras.card_description(self.client, outcome)
            # before the match is announced
            extras.fetch_preview(self.config, self.client, folder, meta, outcome)
            return self._record(folder, meta, outcome, cached=False, description=description)
        self._retry_after(outcome.retry_in or self.client.policy.breaker_cooldown)
        return self._record(folder, meta, outcome, cached=False)

    def _look_up(
        self, folder: Path, meta: ModelMeta, details: Mapping[str, Any] | None
    ) -> LookupOutcome:
        primary = primary_file(meta)
        file_names = [basename(primary.name), basename(primary.original_name)] if primary else []
        clues = collect_clues(
            file_names[0] if file_names else meta.name,
            model_format=meta.format,
            details=details if details is not None else header_details(folder, primary),
            sources=meta.sources,
            sidecars=read_sidecars(folder),
            other_names=file_names[1:],
            model_name=meta.name,
        )
        return find_repo(
            self.client,
            sha256=meta.sha256,
            file_names=[*file_names, meta.name],
            clues=clues,
            model_format=meta.format,
        )

    def _record(
        self,
        folder: Path,
        seen: ModelMeta,
        outcome: LookupOutcome,
        *,
        cached: bool,
        description: str | None = None,
    ) -> EnrichResult:
        try:
            meta = record_outcome(
                self.config.library_root,
                folder,
                seen,
                outcome,
                cached=cached,
                description=description,
            )
        except ModelChanged as exc:
            return EnrichResult(seen.id, seen.name, LookupState.FAILED, error=str(exc))
        except (OSError, ValueError) as exc:
            log.warning("hub: cannot record the lookup of %s: %s", folder, exc)
            return EnrichResult(seen.id, seen.name, LookupState.FAILED, error=str(exc))
        return EnrichResult(
            meta.id,
            meta.name,
            outcome.state,
            hub=meta.hub,
            suggestions=outcome.suggestions,
            requests=outcome.requests,
            cached=cached,
            retry_in=outcome.retry_in,
            error=outcome.error,
        )
