"""The service package's error."""

from __future__ import annotations

from modeld.errors import ModeldError


class UnsupportedPlatform(ModeldError):
    """No service manager modeld knows how to drive."""
