"""Desktop notifications: pystray where its backend can, else the desktop's own service.

Order of attempts: pystray's `notify` (backends with HAS_NOTIFICATION: GTK and
AppIndicator over D-Bus, macOS, Windows); then `notify-send`, then `gdbus`
talking to org.freedesktop.Notifications (Linux and other freedesktop
systems); `osascript` on macOS. Every notification is also logged, which is
all that happens when none of these exists. Kinds turned off in the config
([tray.notify]) are dropped.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from modeld.tray.notices import Notification

log = logging.getLogger(__name__)

APP_NAME = "modeld"
COMMAND_TIMEOUT = 5.0


class NotificationSender:
    def __init__(
        self,
        enabled: Mapping[str, bool],
        *,
        icon_notify: Callable[[str, str], None] | None = None,
        icon_path: Path | None = None,
        platform: str = sys.platform,
    ):
        """`icon_notify(message, title)` is pystray's Icon.notify, given only when the
        backend has HAS_NOTIFICATION; `icon_path` is a PNG shown beside the text."""
        self.enabled = dict(enabled)
        self.icon_notify = icon_notify
        self.icon_path = icon_path
        self.platform = platform

    def send(self, notification: Notification, *, requested: bool = False) -> str:
        """Show one notification; returns the channel that carried it (or "off" / "log").

        `requested`: the answer to something the user just asked for (a menu
        action), shown even when its kind is turned off.
        """
        if not requested and not self.enabled.get(notification.kind, True):
            log.debug("notification (%s, turned off): %s", notification.kind, notification.title)
            return "off"
        log.info("notification: %s: %s", notification.title, notification.body.replace("\n", "; "))
        if self.icon_notify is not None:
            try:
                self.icon_notify(notification.body, notification.title)
                return "pystray"
            except Exception as exc:  # a broken D-Bus session must not end the tray
                log.warning("tray notification failed (%s), trying the desktop service", exc)
        for channel, argv in self._commands(notification):
            if self._run(argv):
                return channel
        return "log"

    def _commands(self, n: Notification) -> list[tuple[str, list[str]]]:
        commands: list[tuple[str, list[str]]] = []
        if self.platform == "darwin":
            if osascript := shutil.which("osascript"):
                script = (
                    f"display notification {_applescript_string(n.body)} "
                    f"with title {_applescript_string(APP_NAME)} "
                    f"subtitle {_applescript_string(n.title)}"
                )
                commands.append(("osascript", [osascript, "-e", script]))
            return commands
        if self.platform.startswith("win"):
            return commands  # pystray's win32 backend notifies; nothing else to try
        if notify_send := shutil.which("notify-send"):
            argv = [notify_send, f"--app-name={APP_NAME}"]
            if self.icon_path is not None:
                argv.append(f"--icon={self.icon_path}")
            commands.append(("notify-send", [*argv, "--", n.title, n.body]))
        if gdbus := shutil.which("gdbus"):
            commands.append(
                (
                    "gdbus",
                    [
                        gdbus, "call", "--session",
                        "--dest=org.freedesktop.Notifications",
                        "--object-path=/org/freedesktop/Notifications",
                        "--method=org.freedesktop.Notifications.Notify",
                        # app_name, replaces_id, app_icon, summary, body, actions, hints, timeout
                        _gvariant_string(APP_NAME), "0",
                        _gvariant_string(str(self.icon_path or "")),
                        _gvariant_string(n.title), _gvariant_string(n.body),
                        "[]", "{}", "-1",
                    ],
                )
            )  # fmt: skip
        return commands

    def _run(self, argv: list[str]) -> bool:
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("%s failed: %s", Path(argv[0]).name, exc)
            return False
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()
            log.warning("%s failed (exit %d): %s", Path(argv[0]).name, done.returncode,
                        detail[-1] if detail else "no message")  # fmt: skip
            return False
        return True


def _applescript_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _gvariant_string(text: str) -> str:
    # GVariant's text format reads JSON-style double-quoted strings with \n, \" and \uXXXX
    return json.dumps(text, ensure_ascii=False)
