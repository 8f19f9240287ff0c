"""Links from the library into apps: kinds, registry, sync, check, repair."""

from modeld.links.manager import LinkManager

__all__ = ["LinkManager"]
