"""The library package's errors, both `ModeldError`s."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modeld.errors import ModeldError

if TYPE_CHECKING:
    from modeld.library.db import ModelRecord


class LibraryOffline(ModeldError):
    """The library was created before but its marker is gone: a drive not mounted."""


class AmbiguousModel(ModeldError, LookupError):
    """What the user typed names several models."""

    def __init__(self, text: str, candidates: list[ModelRecord]):
        self.candidates = candidates
        listed = ", ".join(f"{r.model_id} ({r.name})" for r in candidates[:5])
        more = f" and {len(candidates) - 5} more" if len(candidates) > 5 else ""
        super().__init__(f"{text!r} matches {len(candidates)} models: {listed}{more}")
