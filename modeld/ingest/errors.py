"""The ingest package's errors, all `IngestError`s (and so `ModeldError`s).

The parsers' own control-flow values stay beside the code that raises them
(`Malformed` in modeld.vocab.reads, the pickle walker's `_Malformed`, the zip
reader's `_Unreadable`, the stager's `StageError`), each an `IngestError`
or a `ModeldError` all the same.
"""

from __future__ import annotations

from modeld.errors import ModeldError


class IngestError(ModeldError):
    """The base of the ingest package's errors."""


class NoOwner(IngestError):
    """No single library model is named like the companion; the message says why."""


class ImportCancelled(IngestError):
    """Raised by a progress callback to stop an import; it is rolled back."""
