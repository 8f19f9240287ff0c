"""Finding something to show the tray icon on: a display, and pystray with a backend.

pystray picks its backend when it is imported and fails there without a
display, so it is imported here, lazily, and only by the tray process: the
daemon must run headless and other commands must not pay for it. Every
failure becomes TrayUnavailable with a one-line message for the user.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from modeld.tray.errors import TrayUnavailable


def check_display() -> None:
    """Raise TrayUnavailable when this session has no display to put an icon on."""
    if sys.platform in ("darwin", "win32"):
        return
    if os.environ.get("PYSTRAY_BACKEND") == "dummy":
        raise TrayUnavailable("PYSTRAY_BACKEND=dummy cannot show a tray icon")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise TrayUnavailable(
            "no graphical display (DISPLAY and WAYLAND_DISPLAY are unset); "
            "run `modeld tray` inside a desktop session"
        )


def import_pystray() -> Any:
    _quiet_pystray_logs()
    try:
        import pystray
    except Exception as exc:  # the backends raise ImportError, Xlib errors and more
        raise TrayUnavailable(f"cannot show a tray icon: {one_line(exc)}") from None
    return pystray


def backend_name(pystray: Any) -> str:
    """The backend pystray chose: "xorg", "appindicator", "gtk", "darwin", "win32"..."""
    module: str = pystray.Icon.__module__
    return module.rsplit(".", 1)[-1].lstrip("_")


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


class _OneLineErrors(logging.Filter):
    """pystray logs 'Failed to dock icon' with a traceback whenever the tray is
    missing; one line says the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not logging.getLogger("modeld").isEnabledFor(logging.DEBUG):
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {one_line(exc) if exc else ''}"
            record.args = ()
            record.exc_info = None
        return True


def _quiet_pystray_logs() -> None:
    for name in ("pystray._base", "pystray"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OneLineErrors) for f in logger.filters):
            logger.addFilter(_OneLineErrors())
