"""The control package's errors, all `ControlError`s (and so `ModeldError`s)."""

from __future__ import annotations

from modeld.errors import ModeldError


class ControlError(ModeldError):
    """The base of the control package's errors: the socket between CLI, tray and daemon."""


class DaemonNotRunning(ControlError):
    """No daemon answers on the socket."""


class DaemonError(ControlError):
    """The daemon answered with an error."""


class SocketInUse(ControlError):
    """Another live daemon answers on this socket."""


class ProtocolError(ControlError):
    """A malformed or oversized message."""
