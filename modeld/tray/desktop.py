"""What the tray asks of the desktop around it: a file manager, an image file for notifications."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from modeld.tray.icons import render
from modeld.tray.state import IconState

log = logging.getLogger(__name__)

NOTIFICATION_ICON_SIZE = 64


def open_folder(path: str) -> None:
    """Open a folder in the desktop's file manager, without waiting for it."""
    if not os.path.isdir(path):
        log.warning("cannot open %s: no such folder (is its drive connected?)", path)
        return
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]  # only exists on Windows
        return
    argv = ["open", path] if sys.platform == "darwin" else ["xdg-open", path]
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("cannot open %s: %s", path, exc)
        return
    # reap it when it exits, however long the file manager keeps it
    threading.Thread(target=process.wait, daemon=True).start()


def notification_icon(state_dir: Path) -> Path | None:
    """The idle icon as a PNG in the state dir: notify-send wants a file (None if unwritable)."""
    path = state_dir / "tray-icon.png"
    try:
        if not path.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            render(IconState.IDLE, NOTIFICATION_ICON_SIZE).save(path)
    except OSError as exc:
        log.debug("no icon for notifications: %s", exc)
        return None
    return path
