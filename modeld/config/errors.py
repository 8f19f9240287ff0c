"""The config package's error."""

from __future__ import annotations

from modeld.errors import ModeldError


class ConfigError(ModeldError):
    """An invalid config file or value; the message is one line naming the key."""
