"""The daemon package's error."""

from __future__ import annotations

from modeld.errors import ModeldError


class AlreadyRunning(ModeldError):
    """Another daemon holds this state dir."""
