"""Hub enrichment in the background: a queue, one worker thread, offline-first.

The daemon hands every committed import to `HubEnricher.enqueue` (which
never blocks and never touches the disk or the network), and calls
`retry_pending` on a schedule. The worker thread enriches each model in turn
(enrich.py: look up, fetch extras, record in metadata.json and the index).

While the Hub is unreachable the circuit breaker keeps calls away from it;
lookups wait as "pending", and the worker wakes by itself when the breaker
allows a trial call, so everything is enriched soon after the Hub returns.
`hub.enabled = false` or HF_HUB_OFFLINE=1 mean no network call at all.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from modeld.config import Config
from modeld.control import events
from modeld.hub import due
from modeld.hub.cache import HubCache
from modeld.hub.client import HubClient, HubPolicy, offline_reason
from modeld.hub.clock import Clock, RealClock
from modeld.hub.clues import header_fields
from modeld.hub.enrich import EnrichResult, ModelEnricher
from modeld.hub.errors import Cancelled, HubDisabled
from modeld.library.db import ModelRecord, database

log = logging.getLogger(__name__)


class HubEnricher:
    """The daemon's façade for Hugging Face enrichment.

    Call `start()` after the index is open; `stop()` before closing it.
    `on_confirmed(model_id)` runs once a lookup newly confirms a model's repo,
    after metadata.json and the index say so (the daemon re-links the model:
    links that file by repo, like LM Studio's publisher/model, can follow).
    `policy`, `endpoint` and `clock` exist for tests (short timeouts and
    cool-downs, a fake Hub).
    """

    def __init__(
        self,
        config: Config,
        *,
        on_event: Callable[[events.Event], None] | None = None,
        on_confirmed: Callable[[str], object] | None = None,
        policy: HubPolicy | None = None,
        endpoint: str | None = None,
        clock: Clock | None = None,
    ):
        self.config = config
        self._on_event = on_event
        self._on_confirmed = on_confirmed
        self._stop = threading.Event()
        self._clock = clock or RealClock(self._stop)
        self.client = HubClient(
            calls_per_minute=config.hub.calls_per_minute,
            policy=policy,
            endpoint=endpoint,
            clock=self._clock,
            on_breaker_change=self._breaker_changed,
        )
        self._ttl = config.hub.cache_ttl_hours * 3600.0
        self.cache = HubCache(self._ttl)
        self._one = ModelEnricher(config, self.client, self.cache, self._resume_after)
        self._cv = threading.Condition()
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()  # the queue's members, for O(1) de-duplication
        self._details: dict[str, Mapping[str, Any]] = {}
        self._busy = False
        self._resume_at: float | None = None  # clock time to re-queue pending lookups
        self._thread: threading.Thread | None = None

    # -- the daemon's API -------------------------------------------------------------

    def disabled_reason(self) -> str | None:
        if not self.config.hub.enabled:
            return "hub.enabled = false"
        return offline_reason()

    def start(self) -> None:
        """Start the worker thread (the index must be open)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="modeld-hub", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker; an in-flight request ends within the HTTP timeout."""
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def enqueue(self, model_id: str, details: Mapping[str, Any] | None = None) -> None:
        """Queue a lookup for a freshly imported model. Never blocks, never does I/O.

        `details` is the parsed header from import (GGUF KV fields, safetensors
        `__metadata__`); without it the worker re-reads the header itself.
        """
        if self.disabled_reason():
            return
        # keep the header fields only (no tensor lists) while the model waits its turn
        fields = header_fields(details) if details is not None else None
        with self._cv:
            if fields is not None:
                self._details[model_id] = fields
            if model_id not in self._queued:
                self._queued.add(model_id)
                self._queue.append(model_id)
            self._cv.notify_all()

    def retry_pending(self) -> int:
        """Queue every model that is due a lookup; returns how many were queued."""
        if self.disabled_reason():
            return 0
        due.forget_missing_models()
        model_ids = due.due_model_ids(self._ttl)
        for model_id in model_ids:
            self.enqueue(model_id)
        return len(model_ids)

    def status(self) -> dict[str, Any]:
        """For `modeld status`: {"state": "online|offline|disabled", "next_try": s|None, ...}."""
        with self._cv:
            queued = len(self._queue) + (1 if self._busy else 0)
        reason = self.disabled_reason()
        if reason:
            return {"state": "disabled", "next_try": None, "reason": reason, "queued": 0}
        retry_in = self.client.breaker().retry_in()
        try:
            pending = due.due_count(self._ttl)
        except Exception:  # status must answer even if the index is busy or closed
            log.debug("hub: pending count unavailable", exc_info=True)
            pending = None
        return {
            "state": "online" if retry_in is None else "offline",
            "next_try": None if retry_in is None else round(retry_in, 1),
            "pending": pending,
            "queued": queued,
            "endpoint": self.client.endpoint,
        }

    def lookup_now(
        self,
        model_ids: Iterable[str] | None = None,
        *,
        refresh: bool = False,
        on_result: Callable[[EnrichResult], None] | None = None,
    ) -> list[EnrichResult]:
        """Look models up in the calling thread (for `modeld hub lookup`).

        None means every model without a confirmed match (every model with
        `refresh`). `refresh` ignores cached answers and existing matches.
        `on_result` sees each model's result as soon as it is done.
        Raises HubDisabled when lookups are switched off.
        """
        if reason := self.disabled_reason():
            raise HubDisabled(reason)
        if model_ids is None:
            query = ModelRecord.select(ModelRecord.model_id).order_by(ModelRecord.imported_at)
            if not refresh:
                query = query.where(ModelRecord.hub.is_null())
            model_ids = [row.model_id for row in query]
        results = []
        for model_id in model_ids:
            results.append(self._enrich(model_id, None, refresh=refresh))
            if on_result:
                on_result(results[-1])
        return results

    def wait_idle(self, timeout: float) -> bool:
        """Block until the queue is empty and the worker is idle (tests, shutdown)."""
        with self._cv:
            return self._cv.wait_for(lambda: not (self._queue or self._busy), timeout)

    # -- the worker ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                item = self._next()
                if item is None:
                    return
                model_id, details = item
                try:
                    if model_id is None:
                        self.retry_pending()
                    else:
                        self._enrich(model_id, details)
                except Cancelled:
                    return
                except Exception:
                    log.exception("hub: enrichment of %s failed", model_id)
                finally:
                    with self._cv:
                        self._busy = False
                        self._cv.notify_all()
        finally:
            if not database.is_closed():
                database.close()  # this thread's connection

    def _next(self) -> tuple[str | None, Mapping[str, Any] | None] | None:
        """The next model to look up; (None, None) when pending ones are due again."""
        with self._cv:
            while not self._stop.is_set():
                if self._queue:
                    model_id = self._queue.popleft()
                    self._queued.discard(model_id)
                    self._busy = True
                    return model_id, self._details.pop(model_id, None)
                timeout = None
                if self._resume_at is not None:
                    timeout = self._resume_at - self._clock.now()
                    if timeout <= 0:
                        self._resume_at = None
                        self._busy = True
                        return None, None
                self._cv.wait(timeout)
        return None

    def _resume_after(self, seconds: float) -> None:
        with self._cv:
            when = self._clock.now() + max(0.0, seconds)
            if self._resume_at is None or when < self._resume_at:
                self._resume_at = when
            self._cv.notify_all()

    def _enrich(
        self, model_id: str, details: Mapping[str, Any] | None, *, refresh: bool = False
    ) -> EnrichResult:
        """One model; a new match is handed to `on_confirmed`, then announced."""
        result = self._one.enrich(model_id, details, refresh=refresh)
        if result.newly_confirmed:
            if self._on_confirmed:
                try:
                    self._on_confirmed(result.id)
                except Exception:
                    log.exception("hub: on_confirmed failed for %s", result.id)
            assert result.hub is not None  # a confirmed result carries its hub section
            self._emit(events.HubMatch(result.id, result.hub["repo_id"]))
        return result

    def _breaker_changed(self, endpoint: str, state: str) -> None:
        online = state == "closed"
        retry_in = None if online else self.client.breaker(endpoint).retry_in()
        if online:
            log.info("hub: %s reachable again", endpoint)
            self._resume_after(0.0)  # enrich what waited while it was down
        else:
            log.warning("hub: %s unreachable; next try in %.0f s", endpoint, retry_in or 0.0)
        self._emit(
            events.HubState(
                "online" if online else "offline",
                None if retry_in is None else round(retry_in, 1),
            )
        )

    def _emit(self, event: events.Event) -> None:
        if self._on_event:
            try:
                self._on_event(event)
            except Exception:
                log.exception("hub: event listener failed")
