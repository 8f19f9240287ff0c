"""The hub package's errors, all `HubError`s (and so `ModeldError`s).

Waits cut short, the Hub unreachable or refusing, a model changed under a
lookup: each is handled by name by the worker, and by the base by callers
that only need to know the lookup did not happen.
"""

from __future__ import annotations

from typing import Any

from modeld.errors import ModeldError


class HubError(ModeldError):
    """The base of the hub package's errors."""


class Cancelled(HubError):
    """A wait was cut short because the owner is stopping."""


class HubOffline(HubError):
    """HF_HUB_OFFLINE is set: no network call may be made."""


class HubUnavailable(HubError):
    """The Hub cannot be asked right now (down, failing, or rate limiting us)."""

    def __init__(self, message: str, retry_in: float | None = None):
        super().__init__(message)
        self.retry_in = retry_in


class HttpStatus(HubError):
    """An error status from a plain-requests fetch, handled like huggingface_hub's."""

    def __init__(self, status: int, headers: Any):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers


class RepoNotAvailable(HubError):
    """The Hub answered, and the answer is no: repo missing, private or gated (a 4xx)."""

    def __init__(self, what: str, status: int):
        super().__init__(f"{what}: HTTP {status}")
        self.status = status


class ModelChanged(HubError):
    """The folder holds another model (or other content) than the one looked up."""


class RateLimited(HubError):
    """The next call would have to wait longer than the caller is willing to."""

    def __init__(self, retry_in: float):
        super().__init__(f"rate limited; next call allowed in {retry_in:.0f} s")
        self.retry_in = retry_in


class CircuitOpen(HubError):
    """The endpoint is considered down; `retry_in` seconds until a trial call is allowed."""

    def __init__(self, endpoint: str, retry_in: float):
        super().__init__(f"{endpoint} is unreachable; next try in {retry_in:.0f} s")
        self.endpoint = endpoint
        self.retry_in = retry_in


class HubDisabled(HubError):
    """Lookups are switched off (hub.enabled = false, or HF_HUB_OFFLINE)."""
