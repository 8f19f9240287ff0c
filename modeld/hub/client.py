"""Calls to the Hugging Face Hub, made politely: offline-aware, rate-limited, retried, broken.

Everything network-bound in modeld.hub goes through `HubClient`, which wraps
each HTTP request in, in order:

1. the offline switch: `HF_HUB_OFFLINE` (read at call time, unlike
   huggingface_hub, which reads it once at import) means no request at all;
2. the circuit breaker of the endpoint (`HF_ENDPOINT`, also read at call time);
3. the client-side rate limiter;
4. retries with exponential backoff and jitter for transient failures, and
   the server's `Retry-After` / `RateLimit` reset on a 429.

The requests themselves are huggingface_hub's: `HfApi.model_info` for a
repo's files with their LFS sha256, and, for search, a GET of `/api/models`
through huggingface_hub's own session, header builder and error mapping,
because `HfApi.list_models` runs `http_backoff` underneath (up to 5 hidden
retries with sleeps of up to 8 s, and no timeout), which would defeat the
breaker and the limiter above. A token (`HF_TOKEN`, or the one saved by
`hf auth login`) only ever travels in the Authorization header; nothing here
logs or stores it.

huggingface_hub 2.x also fetches `/api/agent-harnesses` once per process while
building its User-Agent (telemetry, outside any breaker, and it writes a file
under HF_HOME). modeld turns that off unless the user set
HF_HUB_DISABLE_TELEMETRY themselves: a background daemon makes no calls it
cannot account for.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from modeld import __version__
from modeld.hub.breaker import CircuitBreaker
from modeld.hub.card import MAX_CARD_BYTES
from modeld.hub.clock import Clock, RealClock
from modeld.hub.errors import (
    CircuitOpen,
    HttpStatus,
    HubOffline,
    HubUnavailable,
    RateLimited,
    RepoNotAvailable,
)
from modeld.hub.ratelimit import RateLimiter
from modeld.hub.repos import RepoInfo, SearchHit, repo_info_from
from modeld.hub.retry import (
    RATE_LIMITED,
    TRANSIENT_STATUSES,
    RetryPolicy,
    parse_retry_after,
    server_quota,
)

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUE = {"1", "true", "yes", "on"}

T = TypeVar("T")


@dataclass(frozen=True)
class HubPolicy:
    """How patient and how thrifty lookups are. Tests shrink the times."""

    timeout: float = 10.0  # seconds per HTTP request (connect, read, write, pool)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker_threshold: int = 3  # consecutive failures that open the circuit
    breaker_cooldown: float = 60.0  # seconds before the first trial call
    breaker_max_cooldown: float = 900.0  # the cool-down doubles per failed trial, up to this
    search_limit: int = 5  # results per search
    max_direct_checks: int = 3  # repos named by clues, checked without searching
    max_searches: int = 2
    max_candidate_checks: int = 3  # search results checked for our hash


def _status_of(exc: Exception) -> tuple[int, Any]:
    """(status, headers) of huggingface_hub's HTTP error or of our HttpStatus."""
    if isinstance(exc, HttpStatus):
        return exc.status, exc.headers
    return exc.response.status_code, exc.response.headers  # type: ignore[attr-defined]


def _quiet_huggingface_hub() -> None:
    """No telemetry side calls from a daemon (see the module docstring)."""
    if "HF_HUB_DISABLE_TELEMETRY" in os.environ:
        return
    # lazy: huggingface_hub loads on the first request, not at start-up
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True


def offline_reason() -> str | None:
    """Why no network call may be made, or None. Read at call time, not import time."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return f"{name} is set"
    return None


def current_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def current_token() -> str | None:
    """HF_TOKEN if set; None lets huggingface_hub use the token saved by `hf auth login`."""
    return os.environ.get("HF_TOKEN") or None


class HubClient:
    def __init__(
        self,
        *,
        calls_per_minute: int = 60,
        policy: HubPolicy | None = None,
        endpoint: str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        on_breaker_change: Callable[[str, str], None] | None = None,
    ):
        self.policy = policy or HubPolicy()
        self._endpoint = endpoint.rstrip("/") if endpoint else None
        self._clock = clock or RealClock()
        self._rng = rng or random.Random()
        self._on_breaker_change = on_breaker_change
        self._limiter = RateLimiter(calls_per_minute, 60.0, self._clock)
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()
        self.requests = 0  # HTTP requests sent, retries included

    @property
    def endpoint(self) -> str:
        return self._endpoint or current_endpoint()

    def breaker(self, endpoint: str | None = None) -> CircuitBreaker:
        endpoint = endpoint or self.endpoint
        with self._lock:
            breaker = self._breakers.get(endpoint)
            if breaker is None:
                breaker = self._breakers[endpoint] = CircuitBreaker(
                    endpoint,
                    threshold=self.policy.breaker_threshold,
                    cooldown=self.policy.breaker_cooldown,
                    max_cooldown=self.policy.breaker_max_cooldown,
                    clock=self._clock,
                    on_change=self._on_breaker_change,
                )
            return breaker

    def retry_in(self) -> float | None:
        """Seconds until the current endpoint may be called again; None if it may now."""
        breaker_wait = self.breaker().retry_in()
        limiter_wait = self._limiter.delay()
        if breaker_wait is None and limiter_wait <= 0:
            return None
        return max(breaker_wait or 0.0, limiter_wait)

    def search(self, term: str) -> list[SearchHit]:
        """Model repos whose id contains `term`, most downloaded first."""
        limit = self.policy.search_limit

        def send(endpoint: str, token: str | None, timeout: float) -> list[SearchHit]:
            # lazy: huggingface_hub and its HTTP stack load on the first request, not at start-up
            from huggingface_hub.hf_api import ModelInfo
            from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

            response = get_session().get(
                f"{endpoint}/api/models",
                params={"search": term, "limit": limit, "sort": "downloads"},
                headers=build_hf_headers(
                    token=token, library_name="modeld", library_version=__version__
                ),
                timeout=timeout,
            )
            hf_raise_for_status(response)
            self._observe(response.headers)
            items = response.json()
            if not isinstance(items, list):
                raise ValueError("search answer is not a list")
            hits = []
            for item in items[:limit]:
                info = ModelInfo(**{**item, "siblings": None})
                hits.append(SearchHit(info.id, int(info.downloads or 0), tuple(info.tags or ())))
            return hits

        return self._call(f"search {term!r}", send)

    def repo_info(self, repo_id: str, revision: str | None = None) -> RepoInfo:
        """A repo's files with their LFS sha256, and its card facts (one request)."""

        def send(endpoint: str, token: str | None, timeout: float) -> RepoInfo:
            # lazy: huggingface_hub and its HTTP stack load on the first request, not at start-up
            from huggingface_hub import HfApi
            from huggingface_hub.errors import HFValidationError

            api = HfApi(
                endpoint=endpoint, token=token, library_name="modeld", library_version=__version__
            )
            try:
                info = api.model_info(
                    repo_id, revision=revision, files_metadata=True, timeout=timeout
                )
            except HFValidationError as exc:
                raise RepoNotAvailable(f"model_info {repo_id}", 400) from exc
            return repo_info_from(info)

        return self._call(f"model_info {repo_id}", send)

    def model_card(self, repo_id: str, revision: str) -> str:
        """The repo's README.md (its model card), size-capped; "" when it has none."""
        body = self.repo_file(repo_id, revision, "README.md", max_bytes=MAX_CARD_BYTES, whole=False)
        return (body or b"").decode("utf-8", "replace")

    def repo_file(
        self,
        repo_id: str,
        revision: str,
        path: str,
        *,
        max_bytes: int,
        lfs: bool = False,
        whole: bool = True,
    ) -> bytes | None:
        """A small file of a repo; None when it is missing, or (`whole`) larger than
        `max_bytes`. Without `whole`, a larger file's first `max_bytes` (a long card).

        Plain requests, as issue 6 has it: huggingface_hub reads a file only by
        downloading it into its cache, and these are a card to summarise or a
        preview to copy. `lfs` files go through /resolve/ (a redirect to the
        CDN), text through /raw/. Any other error status is raised as
        `HttpStatus`, which `_call` handles like huggingface_hub's own errors
        (a 429 is waited out and retried, a 5xx counts against the breaker).
        """

        def send(endpoint: str, token: str | None, timeout: float) -> bytes | None:
            # lazy: huggingface_hub and its HTTP stack load on the first request, not at start-up
            import requests
            from huggingface_hub.utils import build_hf_headers

            route = "resolve" if lfs else "raw"
            url = f"{endpoint}/{repo_id}/{route}/{quote(revision, safe='')}/{quote(path)}"
            headers = build_hf_headers(
                token=token, library_name="modeld", library_version=__version__
            )
            with requests.get(url, headers=headers, timeout=timeout, stream=True) as response:
                if response.status_code in (401, 403, 404):
                    return None
                if response.status_code >= 400:
                    raise HttpStatus(response.status_code, response.headers)
                body: bytes = response.raw.read(max_bytes + 1, decode_content=True)
            if len(body) > max_bytes:
                return None if whole else body[:max_bytes]
            return body

        return self._call(f"{path} of {repo_id}", send)

    def _call(self, what: str, send: Callable[[str, str | None, float], T]) -> T:
        """One logical call: offline check, breaker, limiter, then `send` with retries."""
        # lazy: huggingface_hub and its HTTP stack load on the first request, not at start-up
        import httpx2
        import requests
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

        _quiet_huggingface_hub()
        endpoint = self.endpoint
        breaker = self.breaker(endpoint)
        retry = self.policy.retry
        for attempt in range(1, retry.max_attempts + 1):
            if reason := offline_reason():
                raise HubOffline(reason)
            try:
                breaker.before_call()
            except CircuitOpen as exc:
                raise HubUnavailable(str(exc), exc.retry_in) from exc
            try:
                self._limiter.acquire(max_wait=retry.max_retry_after)
            except RateLimited as exc:
                breaker.release_trial()
                raise HubUnavailable(str(exc), exc.retry_in) from exc
            except BaseException:
                breaker.release_trial()
                raise
            with self._lock:
                self.requests += 1
            try:
                value = send(endpoint, current_token(), self.policy.timeout)
            except OfflineModeIsEnabled as exc:
                # HF_HUB_OFFLINE as huggingface_hub saw it at import time
                breaker.release_trial()
                raise HubOffline("HF_HUB_OFFLINE is set") from exc
            except (HfHubHTTPError, HttpStatus) as exc:
                status, headers = _status_of(exc)
                self._observe(headers)
                if status == RATE_LIMITED:
                    breaker.record_success()  # it answered: the endpoint is up
                    wait = self._rate_limit_wait(headers, attempt)
                    self._limiter.pause_for(wait)
                    log.info("hub: %s rate limited, waiting %.1f s", what, wait)
                    if attempt == retry.max_attempts or wait > retry.max_retry_after:
                        raise HubUnavailable("rate limited by the Hub", wait) from exc
                    continue  # the limiter holds the next attempt until the pause is over
                if status in TRANSIENT_STATUSES or status >= 500:
                    breaker.record_failure()
                    failure = f"HTTP {status}"
                else:
                    breaker.record_success()
                    raise RepoNotAvailable(what, status) from exc
            except (httpx2.RequestError, requests.RequestException) as exc:
                # the wire, a bad encoding, a redirect loop
                breaker.record_failure()
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except (ValueError, KeyError, TypeError) as exc:
                # a 200 whose body is not the API's (a captive portal, a broken proxy)
                breaker.record_failure()
                failure = f"unexpected answer: {type(exc).__name__}"
            except BaseException:
                breaker.release_trial()
                raise
            else:
                breaker.record_success()
                return value
            log.info(
                "hub: %s failed (%s), attempt %d/%d", what, failure, attempt, retry.max_attempts
            )
            still_open = breaker.retry_in()
            if still_open is not None:
                raise HubUnavailable(f"{endpoint}: {failure}", still_open)
            if attempt == retry.max_attempts:
                raise HubUnavailable(f"{endpoint}: {failure}", retry.backoff(attempt, self._rng))
            self._clock.sleep(retry.backoff(attempt, self._rng))
        raise AssertionError("unreachable: the loop returns or raises")

    def _rate_limit_wait(self, headers: Any, attempt: int) -> float:
        """How long a 429 asks us to wait: Retry-After, else the RateLimit reset, else backoff."""
        wait = parse_retry_after(headers.get("Retry-After"), now_epoch=time.time())
        if wait is None:
            quota = server_quota(headers)
            if quota is not None and quota.remaining <= 0:
                wait = quota.reset_in
        if wait is None:
            wait = self.policy.retry.backoff(attempt, self._rng)
        return wait

    def _observe(self, headers: Any) -> None:
        quota = server_quota(headers)
        if quota is not None:
            self._limiter.observe(quota)
