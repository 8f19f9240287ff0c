"""Starting `modeld tray` from `modeld run`.

The contract: `modeld run` shows "the tray where enabled and a display exists".
The tray is its own process, so the daemon never imports pystray.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: no new import at run time
    from modeld.config import Config

log = logging.getLogger(__name__)


def has_display(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    if platform in ("darwin", "win32"):
        return True  # a LaunchAgent in the Aqua session, or a desktop
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def start_tray(
    config: Config, environ: Mapping[str, str] = os.environ
) -> subprocess.Popen[bytes] | None:
    """Start `modeld tray` for this config when [tray] enabled and a display exists.

    Returns the process (stop it with `stop_tray` on shutdown), or None. A tray
    that is already running (autostart) keeps the icon; the new one exits at once.
    """
    if not config.tray.enabled or not has_display(environ):
        return None
    argv = [sys.executable, "-m", "modeld"]
    if config.source is not None:
        argv += ["--config", str(config.source)]
    log_path = Path(config.daemon.state_dir) / "tray.log"
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(
                [*argv, "tray"],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                env=dict(environ),
            )
    except OSError as exc:
        log.warning("could not start the tray icon: %s", exc)
        return None
    log.info("tray icon started (pid %d, log %s)", process.pid, log_path)
    return process


def stop_tray(process: subprocess.Popen[bytes] | None, timeout: float = 5.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
