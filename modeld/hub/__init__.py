"""Hugging Face enrichment: find a model's repo from local clues, confirm by sha256.

The daemon uses `HubEnricher` (worker.py); `modeld show` uses
`present.hub_lines`. The exports are lazy so that importing a small part
(clues, present) does not load the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modeld.hub.errors import HubDisabled
    from modeld.hub.worker import HubEnricher

__all__ = ["HubDisabled", "HubEnricher"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from modeld.hub import worker

        return getattr(worker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
