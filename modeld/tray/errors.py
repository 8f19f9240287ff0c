"""The tray package's errors: each ends `modeld tray` with its one-line message."""

from __future__ import annotations

from modeld.errors import ModeldError


class TrayUnavailable(ModeldError):
    """No display, no tray host or no usable pystray backend; the message is one line."""


class TrayAlreadyRunning(ModeldError):
    """Another `modeld tray` already shows this daemon (autostart and a service both tried)."""
