"""modeld's named errors: one base, and the errors of the top-level modules.

Every exception modeld defines subclasses `ModeldError`, so a caller (the
CLI, a daemon job, an embedding program) can tell "modeld refused or failed,
with a one-line message" from a bug, with one `except`. Each package keeps
its own errors in its `errors.py` (modeld/links/errors.py, ...), each a
subclass of this base, as huggingface_hub keeps its in one `errors.py`.
"""

from __future__ import annotations

from pathlib import Path


class ModeldError(Exception):
    """The base of every error modeld raises on purpose."""


class LockHeld(ModeldError):
    """Another process holds the lock; `pid` is what it wrote ("?" if nothing yet)."""

    def __init__(self, path: Path, pid: str):
        super().__init__(f"{path} is held by pid {pid}")
        self.path = path
        self.pid = pid
