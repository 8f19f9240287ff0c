"""When to try a failed Hub call again, and after how long.

huggingface_hub retries only some calls itself (`list_models` pages, via
`http_backoff`, with its own sleeps; `model_info` not at all), so modeld
decides every retry in one place: exponential backoff with jitter for
transient failures, and the server's own `Retry-After` / `RateLimit` reset on
a 429.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from modeld.hub.ratelimit import ServerQuota

# Statuses that say "the server or a proxy is struggling, not: your request is wrong".
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})
RATE_LIMITED = 429


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3  # per call, the first one included
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # wait this long for a 429 at most; beyond, defer the lookup

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before attempt `attempt + 1` ("equal jitter": half fixed, half random).

        The fixed half keeps the growth exponential; the random half keeps
        many clients from retrying in lock-step.
        """
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, *, now_epoch: float) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - now_epoch
    return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer


def server_quota(headers: Mapping[str, str]) -> ServerQuota | None:
    """The `RateLimit` / `RateLimit-Policy` headers, parsed by huggingface_hub."""
    # lazy: huggingface_hub loads on the first request, not at start-up
    from huggingface_hub.utils import parse_ratelimit_headers

    info = parse_ratelimit_headers(headers)
    if info is None:
        return None
    return ServerQuota(
        remaining=info.remaining, reset_in=float(info.reset_in_seconds), quota=info.limit
    )
