"""Watching drop folders and drives: observers, scans, and deciding when a file is complete."""

from modeld.watch.service import WatchService

__all__ = ["WatchService"]
