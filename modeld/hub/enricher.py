"""Hub enrichment in the background: a queue, one worker thread, offline-first.

The daemon hands every committed import to `HubEnricher.enqueue` (which
never blocks and never touches the disk or the network), and calls
`retry_pending` on a schedule. The worker thread looks each model up, writes
what it found into the model's metadata.json (the source of truth) and
re-indexes the model:

- a confirmed match (exact LFS sha256) goes under `hub`;
- unconfirmed leads go under `hub_suggestions`, never under `hub`;
- the lookup's own state goes under `hub_lookup`: {state: done | miss |
  pending, attempts, last_attempt[, error]}.

While the Hub is unreachable the circuit breaker keeps calls away from it;
lookups wait as "pending", and the worker wakes by itself when the breaker
allows a trial call, so everything is enriched soon after the Hub returns.
`hub.enabled = false` or HF_HUB_OFFLINE=1 mean no network call at all.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from modeld.config import Config
from modeld.hub import state as lookup_state
from modeld.hub.cache import HubCache
from modeld.hub.card import card_summary
from modeld.hub.client import (
    HubClient,
    HubOffline,
    HubPolicy,
    HubUnavailable,
    RepoNotAvailable,
    offline_reason,
)
from modeld.hub.clock import Cancelled, Clock, RealClock
from modeld.hub.clues import collect_clues, header_fields
from modeld.hub.lookup import CONFIRMED, MISS, OFFLINE, UNAVAILABLE, LookupOutcome, find_repo
from modeld.hub.preview import IMAGE_SUFFIXES, MAX_PREVIEW_BYTES, image_suffix, preview_name
from modeld.ingest import attach
from modeld.ingest.formats.companions import read_optional_json
from modeld.ingest.journal import Journal
from modeld.ingest.units import is_weights_name
from modeld.library.db import ModelRecord, database
from modeld.library.layout import METADATA_NAME, OVERRIDES_NAME
from modeld.library.metadata import (
    UPDATE_LOCK,
    FileEntry,
    ModelMeta,
    read_metadata,
    write_metadata,
)

log = logging.getLogger(__name__)

# Keys this module owns in metadata.json (besides the contract's `hub`).
SUGGESTIONS_KEY = "hub_suggestions"
LOOKUP_KEY = "hub_lookup"

# Result statuses of one model's enrichment (CLI and lookup_now).
STATUS_CONFIRMED = "confirmed"
STATUS_UNCONFIRMED = "unconfirmed"  # no match, but suggestions
STATUS_NOT_FOUND = "not_found"
STATUS_PENDING = "pending"  # the Hub could not be asked; retried later
STATUS_MISSING = "missing"  # no such model
STATUS_FAILED = "failed"  # the model's metadata could not be read or written
STATUS_DISABLED = "disabled"

_SIDECAR_MAX_BYTES = 1024 * 1024
_SIDECAR_MAX_FILES = 20


class HubDisabled(Exception):
    """Lookups are switched off (hub.enabled = false, or HF_HUB_OFFLINE)."""


class HubEnricher:
    """The daemon's façade for Hugging Face enrichment.

    Call `start()` after the index is open; `stop()` before closing it.
    `policy`, `endpoint` and `clock` exist for tests (short timeouts and
    cool-downs, a fake Hub); the daemon passes only `config` and `on_event`.
    """

    def __init__(
        self,
        config: Config,
        *,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        policy: HubPolicy | None = None,
        endpoint: str | None = None,
        clock: Clock | None = None,
    ):
        self.config = config
        self._on_event = on_event
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
        lookup_state.forget_missing_models()
        model_ids = lookup_state.due_model_ids(self._ttl)
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
            pending = lookup_state.due_count(self._ttl)
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
        on_result: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
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
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

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

    def _breaker_changed(self, endpoint: str, state: str) -> None:
        online = state == "closed"
        retry_in = None if online else self.client.breaker(endpoint).retry_in()
        if online:
            log.info("hub: %s reachable again", endpoint)
            self._resume_after(0.0)  # enrich what waited while it was down
        else:
            log.warning("hub: %s unreachable; next try in %.0f s", endpoint, retry_in or 0.0)
        self._emit(
            {
                "event": "hub",
                "state": "online" if online else "offline",
                "next_try": None if retry_in is None else round(retry_in, 1),
            }
        )

    def _emit(self, event: dict[str, Any]) -> None:
        if self._on_event:
            try:
                self._on_event({**event, "time": time.time()})
            except Exception:
                log.exception("hub: event listener failed")

    # -- one model -------------------------------------------------------------------

    def _enrich(
        self, model_id: str, details: Mapping[str, Any] | None, *, refresh: bool = False
    ) -> dict[str, Any]:
        record = ModelRecord.get_or_none(ModelRecord.model_id == model_id)
        if record is None:
            return _result(model_id, None, STATUS_MISSING)
        folder = self.config.library_root / record.rel_path
        known = json.loads(record.hub) if record.hub and not refresh else None
        if known and known.get("confirmed"):
            return _result(model_id, record.name, STATUS_CONFIRMED, hub=known, cached=True)
        cached = None if refresh else self.cache.get(record.sha256)
        breaker_wait = self.client.breaker().retry_in()
        if cached is None and breaker_wait:
            # down, and the cool-down is not over: do not even try (nor read the disk)
            # (no write either: a model without a settled state is due by definition)
            self._resume_after(breaker_wait)
            return _result(model_id, record.name, STATUS_PENDING, retry_in=breaker_wait)
        try:
            meta = read_metadata(folder)
        except (OSError, ValueError) as exc:
            log.warning("hub: cannot read %s: %s", folder / METADATA_NAME, exc)
            return _result(model_id, record.name, STATUS_FAILED, error=str(exc))
        if cached is not None and meta.sha256 == record.sha256:
            return self._save(folder, meta, cached, cached=True)

        primary = _primary_file(meta)
        file_names = [_basename(primary.name), _basename(primary.original_name)] if primary else []
        clues = collect_clues(
            file_names[0] if file_names else meta.name,
            model_format=meta.format,
            details=details if details is not None else _header_details(folder, primary),
            sources=meta.sources,
            sidecars=_read_sidecars(folder),
            other_names=file_names[1:],
            model_name=meta.name,
        )
        outcome = find_repo(
            self.client,
            sha256=meta.sha256,
            file_names=[*file_names, meta.name],
            clues=clues,
            model_format=meta.format,
        )
        if outcome.status == OFFLINE:
            return _result(meta.id, meta.name, STATUS_DISABLED, error=outcome.error)
        if outcome.status in (CONFIRMED, MISS):
            if outcome.requests:
                self.cache.put(meta.sha256, outcome)
            description = self._card_description(outcome) if not meta.description else None
            self._fetch_preview(folder, meta, outcome)  # before the match is announced
            return self._save(folder, meta, outcome, cached=False, description=description)
        self._resume_after(outcome.retry_in or self.client.policy.breaker_cooldown)
        return self._save(folder, meta, outcome, cached=False)

    def _card_description(self, outcome: LookupOutcome) -> str | None:
        """The first paragraph of a confirmed repo's model card; None when there is none.

        A nicety on top of a confirmed match: any failure just leaves it out.
        """
        hub = outcome.hub or {}
        if outcome.status != CONFIRMED or not hub.get("repo_id"):
            return None
        try:
            card = self.client.model_card(hub["repo_id"], hub.get("revision") or "main")
        except (HubUnavailable, HubOffline, RepoNotAvailable) as exc:
            log.info("hub: no model card for %s: %s", hub["repo_id"], exc)
            return None
        return card_summary(card) or None

    def _fetch_preview(self, folder: Path, meta: ModelMeta, outcome: LookupOutcome) -> None:
        """The confirmed repo's preview image, filed beside a model that has none.

        A nicety like the card: any failure just leaves it out. The image goes
        in through the importer's attach step, so it is copied, fsynced,
        recorded in metadata.json and linked like a preview the user dropped.
        """
        hub = outcome.hub or {}
        repo_path = hub.get("preview")
        weights = [f for f in meta.files if is_weights_name(f.name)]
        if (
            not self.config.hub.previews
            or outcome.status != CONFIRMED
            or not repo_path
            or len(weights) != 1
            or "/" in weights[0].name
            or any(f.name.lower().endswith(IMAGE_SUFFIXES) for f in meta.files)
        ):
            return
        repo_id = hub["repo_id"]
        try:
            data = self.client.repo_file(
                repo_id,
                hub.get("revision") or "main",
                repo_path,
                max_bytes=MAX_PREVIEW_BYTES,
                lfs=True,
            )
        except (HubUnavailable, HubOffline, RepoNotAvailable) as exc:
            log.info("hub: no preview from %s: %s", repo_id, exc)
            return
        suffix = image_suffix(data or b"")
        if suffix is None:
            log.info("hub: %s of %s is not a PNG, JPEG or WebP image", repo_path, repo_id)
            return
        name = preview_name(weights[0].name, suffix)
        owner = attach.Owner(meta.id, folder)
        journal = Journal(self.config.journal_path)
        with tempfile.TemporaryDirectory(prefix="modeld-preview-") as temp:
            fetched = Path(temp) / name
            fetched.write_bytes(data)
            try:
                attach.attach(self.config.library_root, journal, fetched, owner, copy=True)
            except OSError as exc:  # a user's own preview of that name wins
                log.info("hub: preview %s not filed: %s", name, exc)
                return
        log.info("hub: preview for %s from %s/%s", meta.id, repo_id, repo_path)

    def _save(
        self,
        folder: Path,
        seen: ModelMeta,
        outcome: LookupOutcome,
        *,
        cached: bool,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Write the outcome into metadata.json (re-read: others may have written since)."""
        from modeld.library.index import upsert_model

        try:
            with UPDATE_LOCK:  # others (a late preview) may write it too
                meta = read_metadata(folder)
                if meta.id != seen.id or meta.sha256 != seen.sha256:
                    changed = "model changed meanwhile"
                    return _result(seen.id, seen.name, STATUS_FAILED, error=changed)
                attempts = _attempts(meta) + (0 if cached else 1)
                now = time.time()
                lookup: dict[str, Any] = {
                    "state": _STATE_OF[outcome.status],
                    "attempts": attempts,
                    "last_attempt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                }
                if outcome.status == CONFIRMED:
                    meta.hub = outcome.hub
                    meta.extra.pop(SUGGESTIONS_KEY, None)
                    if description and not meta.description:
                        meta.description = description  # searchable, shown by `modeld show`
                elif outcome.status == MISS:
                    # a miss never erases an earlier confirmed match (a repo may go private)
                    if outcome.suggestions and not (meta.hub and meta.hub.get("confirmed")):
                        meta.extra[SUGGESTIONS_KEY] = [s.as_dict() for s in outcome.suggestions]
                    else:
                        meta.extra.pop(SUGGESTIONS_KEY, None)
                else:
                    lookup["error"] = outcome.error
                meta.extra[LOOKUP_KEY] = lookup
                write_metadata(folder, meta)
                upsert_model(self.config.library_root, folder, meta)
                lookup_state.record_state(
                    meta.id,
                    lookup["state"],
                    attempts=attempts,
                    last_attempt=now,
                    error=outcome.error,
                )
        except (OSError, ValueError) as exc:
            log.warning("hub: cannot record the lookup of %s: %s", folder, exc)
            return _result(seen.id, seen.name, STATUS_FAILED, error=str(exc))
        if outcome.status == CONFIRMED and not cached:
            # links that file by repo (LM Studio's publisher/model) can follow now
            self._emit({"event": "hub_match", "id": meta.id, "repo_id": meta.hub["repo_id"]})
        if outcome.status == CONFIRMED:
            status = STATUS_CONFIRMED
        elif outcome.status == MISS:
            status = STATUS_UNCONFIRMED if outcome.suggestions else STATUS_NOT_FOUND
        else:
            status = STATUS_PENDING
        return _result(
            meta.id,
            meta.name,
            status,
            hub=meta.hub,
            suggestions=[s.as_dict() for s in outcome.suggestions],
            requests=outcome.requests,
            cached=cached,
            retry_in=outcome.retry_in,
            error=outcome.error,
        )


_STATE_OF = {
    CONFIRMED: lookup_state.DONE,
    MISS: lookup_state.MISS,
    UNAVAILABLE: lookup_state.PENDING,
}


def _basename(name: str) -> str:
    """The last component of a '/'-separated name inside a model folder."""
    return name.rsplit("/", 1)[-1]


def _result(model_id: str, name: str | None, status: str, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": model_id,
        "name": name,
        "status": status,
        "hub": None,
        "suggestions": [],
        "requests": 0,
        "cached": False,
        "retry_in": None,
        "error": None,
    }
    result.update(fields)
    return result


def _attempts(meta: ModelMeta) -> int:
    lookup = meta.extra.get(LOOKUP_KEY)
    value = lookup.get("attempts") if isinstance(lookup, Mapping) else 0
    return value if isinstance(value, int) else 0


def _primary_file(meta: ModelMeta) -> FileEntry | None:
    for file in meta.files:
        if file.sha256 == meta.sha256:
            return file
    return meta.files[0] if meta.files else None


def _header_details(folder: Path, primary: FileEntry | None) -> Mapping[str, Any] | None:
    """The primary file's parsed header, read again (bounded; never executes anything)."""
    if primary is None:
        return None
    from modeld.ingest.formats import Sniffed, sniff

    try:
        result = sniff(folder / primary.name)
    except Exception:  # a header we cannot read is simply no clue
        log.debug("hub: cannot read the header of %s", primary.name, exc_info=True)
        return None
    return result.details if isinstance(result, Sniffed) else None


def _read_sidecars(folder: Path) -> dict[str, Any]:
    """Companion JSON objects in the model folder (.civitai.info, same-stem .json), parsed
    with the importer's capped reader."""
    sidecars: dict[str, Any] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return sidecars
    for entry in entries:
        name = entry.name
        lowered = name.lower()
        if name in (METADATA_NAME, OVERRIDES_NAME) or name.startswith("."):
            continue
        if not (lowered.endswith(".civitai.info") or lowered.endswith(".json")):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
        except OSError:
            continue
        document = read_optional_json(Path(entry.path), _SIDECAR_MAX_BYTES)
        if document is None:
            continue  # too big, or not a JSON object after all: no clue
        sidecars[name] = document
        if len(sidecars) >= _SIDECAR_MAX_FILES:
            break
    return sidecars
