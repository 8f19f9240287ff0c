"""The links package's errors, all `LinksError`s (and so `ModeldError`s).

Each keeps the builtin base it had before (OSError, ValueError): callers
that handle a failed link like any other OS error still catch it.
"""

from __future__ import annotations

from modeld.errors import ModeldError


class LinksError(ModeldError):
    """The base of the links package's errors."""


class LinkUnsupported(LinksError, OSError):
    """No usable way to link from this folder to the library."""


class FolderError(LinksError, ValueError):
    """A configured folder that would leave the app's models folder."""
