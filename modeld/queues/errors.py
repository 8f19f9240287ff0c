"""The queues package's error."""

from __future__ import annotations

from modeld.errors import ModeldError


class JobCancelled(ModeldError):
    """The queues stopped before this job started."""
