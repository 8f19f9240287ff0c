"""`modeld tray`: the tray icon process, a client of the daemon's control socket.

The main thread runs pystray's loop (mandatory on macOS); two threads feed it:

- the connection thread asks for a status snapshot, then follows the event
  subscription; when the daemon goes away it backs off and reconnects;
- the housekeeping thread refreshes the status after events that change
  counts (debounced, not polled), sends the notifications that are due and
  keeps the tooltip's countdowns current.

All decisions about what to show live in modeld.tray.state (pure); finding a
display and a pystray backend in modeld.tray.backend; the X11 icon in
modeld.tray.xorg.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modeld.control.client import call, subscribe
from modeld.control.errors import DaemonError, DaemonNotRunning, ProtocolError
from modeld.pidlock import LockHeld, acquire
from modeld.tray import xorg
from modeld.tray.backend import backend_name, check_display, import_pystray, one_line
from modeld.tray.desktop import notification_icon, open_folder
from modeld.tray.errors import TrayAlreadyRunning, TrayUnavailable
from modeld.tray.icons import render
from modeld.tray.menu import Action, MenuEntry
from modeld.tray.notices import Notification, links_check_notification
from modeld.tray.notify import NotificationSender
from modeld.tray.popup import PopupMenu, tk_available
from modeld.tray.state import IconState, TrayModel

if TYPE_CHECKING:  # annotations only: the tray process reads its config through the CLI
    from modeld.config import Config

# what `modeld tray` (modeld.cli.tray) needs: run() and the two ways it ends early
__all__ = ["TrayAlreadyRunning", "TrayApp", "TrayUnavailable", "retry_delay", "run"]

log = logging.getLogger(__name__)

ICON_SIZE = 64
TICK_SECONDS = 0.25
REFRESH_DEBOUNCE_SECONDS = 0.3
STATUS_TIMEOUT = 5.0
ACTION_TIMEOUT = 600.0  # a link check over a big library takes a while
_CONNECTION_ERRORS = (DaemonNotRunning, DaemonError, ProtocolError, OSError)


def retry_delay(attempt: int) -> float:
    """Seconds to wait before reconnection attempt `attempt` (0-based): 0.5, 1, 2, 4, then 5."""
    return min(5.0, 0.5 * 2.0**attempt)


def run(config: Config, *, tray_wait: float = 15.0) -> int:
    """Show the tray icon until the user quits it or SIGTERM/SIGINT; returns the exit code.

    Raises TrayUnavailable when there is nothing to show an icon on; waits up
    to `tray_wait` seconds for a system tray to appear (a session's panel may
    start after its autostart entries).
    """
    check_display()
    try:
        lock = acquire(config.daemon.state_dir / "tray.lock")
    except LockHeld as held:
        raise TrayAlreadyRunning(f"modeld tray is already running (pid {held.pid})") from None
    try:
        pystray = import_pystray()
        if backend_name(pystray) == "xorg":
            xorg.wait_for_tray(tray_wait)
        app = TrayApp(config, pystray)
        return app.run()
    finally:
        lock.release()


class TrayApp:
    def __init__(
        self,
        config: Config,
        pystray: Any,
        *,
        clock: Callable[[], float] = time.time,
        opener: Callable[[str], None] | None = None,
    ):
        self.socket_path: Path = config.socket_path
        self.clock = clock
        self.opener = opener or open_folder
        self.model = TrayModel(
            library_root=str(config.library_root),
            quarantine_dir=str(config.quarantine_dir),
            drop_folders=[str(w.path) for w in config.watches],
        )
        self.lock = threading.RLock()  # guards the model
        # pystray calls from one thread at a time; taken before `lock`, never inside it
        self.render_lock = threading.Lock()
        self.stopping = threading.Event()
        self.refresh_wanted = threading.Event()
        self._shown: tuple[Any, ...] | None = None
        self._shown_menu: tuple[MenuEntry, ...] | None = None
        self._pystray = pystray
        self.popup: PopupMenu | None = None
        self.icon = self._make_icon(pystray)
        if not getattr(self.icon, "HAS_MENU", True):
            if tk_available():
                self.popup = PopupMenu(self._menu_entries, self.perform)
            else:
                log.warning("this tray shows no menu and Tk is missing (Debian: python3-tk)")
        notify = self.icon.notify if getattr(self.icon, "HAS_NOTIFICATION", False) else None
        self.sender = NotificationSender(
            config.tray.notify,
            icon_notify=notify,
            icon_path=notification_icon(config.daemon.state_dir),
        )

    # ---- lifecycle ---------------------------------------------------------

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            # pystray's loop swallows KeyboardInterrupt; stop it from another thread instead
            signal.signal(signum, lambda *_: threading.Thread(target=self.stop).start())
        self.icon.run(setup=self._setup)
        self.stopping.set()
        if self.popup is not None:
            self.popup.close()
        return 0

    def stop(self) -> None:
        self.stopping.set()
        with self.render_lock:  # no update is half-way through when the icon goes
            self.icon.stop()

    def _setup(self, icon: Any) -> None:
        if self.popup is not None and not self.popup.start():
            self.popup = None
        icon.visible = True
        self._render(force=True)
        for target, name in ((self._connection_loop, "tray-connection"),
                             (self._housekeeping, "tray-housekeeping")):  # fmt: skip
            threading.Thread(target=target, name=name, daemon=True).start()

    # ---- the daemon --------------------------------------------------------

    def _connection_loop(self) -> None:
        attempt = 0
        while not self.stopping.is_set():
            try:
                with subscribe(self.socket_path, timeout=STATUS_TIMEOUT) as subscription:
                    if attempt:
                        log.info("connected to the daemon")
                    attempt = 0
                    with self.lock:
                        self.model.apply_status(subscription.status, self.clock())
                    self._render()
                    for event in subscription.events:
                        with self.lock:
                            if self.model.apply_event(event, self.clock()):
                                self.refresh_wanted.set()
                        self._render()
                        if self.stopping.is_set():
                            return
                log.info("lost the daemon; reconnecting")
            except _CONNECTION_ERRORS as exc:
                if attempt == 0:
                    log.info("daemon not reachable (%s); retrying", exc)
                delay = retry_delay(attempt)
                attempt += 1
                now = self.clock()
                with self.lock:
                    self.model.disconnected(now, now + delay)
                self._render()
                self.stopping.wait(delay)

    def _housekeeping(self) -> None:
        last_refresh = 0.0
        while not self.stopping.wait(TICK_SECONDS):
            now = self.clock()
            if self.refresh_wanted.is_set() and now - last_refresh >= REFRESH_DEBOUNCE_SECONDS:
                self.refresh_wanted.clear()
                last_refresh = now
                self._refresh_status()
            with self.lock:
                due = self.model.take_notifications(self.clock())
            for notification in due:
                self.sender.send(notification)
            self._render()

    def _refresh_status(self) -> None:
        with self.lock:
            if not self.model.connected:
                return
            generation = self.model.generation
        try:
            status = call(self.socket_path, "status", timeout=STATUS_TIMEOUT)
        except _CONNECTION_ERRORS as exc:
            log.debug("status refresh failed: %s", exc)  # the subscription notices a lost daemon
            return
        with self.lock:
            if self.model.generation != generation:
                # the snapshot may predate those events (a pause): it would undo them
                self.refresh_wanted.set()
                return
            self.model.apply_status(status, self.clock())

    # ---- menu actions ------------------------------------------------------

    def perform(self, action: Action) -> None:
        """Carry out a menu choice (called from pystray's thread; slow work goes to a thread)."""
        if action.kind in ("pause", "resume", "links_check"):
            threading.Thread(target=self._daemon_action, args=(action.kind,), daemon=True).start()
        elif action.kind == "open" and action.path:
            self.opener(action.path)
        elif action.kind == "open_quarantine" and action.path:
            with self.lock:
                self.model.acknowledge_quarantine()
            self._render()
            self.opener(action.path)
        elif action.kind == "dismiss_errors":
            with self.lock:
                self.model.acknowledge_errors()
            self._render()
        elif action.kind == "quit":
            threading.Thread(target=self.stop, daemon=True).start()

    def _daemon_action(self, command: str) -> None:
        try:
            result = call(self.socket_path, command, timeout=ACTION_TIMEOUT)
        except _CONNECTION_ERRORS as exc:
            verb = {"links_check": "Checking links"}.get(command, command.capitalize())
            self.sender.send(Notification("action", f"{verb} failed", str(exc)), requested=True)
            return
        if command in ("pause", "resume"):
            state = "paused" if command == "pause" else "running"
            with self.lock:  # show the new state at once; the daemon's own event confirms it
                self.model.apply_event({"event": "state", "state": state}, self.clock())
            self.refresh_wanted.set()
            self._render()
        elif command == "links_check" and isinstance(result, dict):
            self.sender.send(links_check_notification(result), requested=True)

    # ---- drawing -----------------------------------------------------------

    def _render(self, force: bool = False) -> None:
        if self.stopping.is_set():
            return
        try:
            self._push_to_icon(force)
        except Exception as exc:  # a display hiccup must not stop the threads that call this
            log.warning("could not update the tray icon: %s", one_line(exc))
            log.debug("tray icon update failed", exc_info=True)

    def _push_to_icon(self, force: bool) -> None:
        # read the model under the render lock too: a thread that read it earlier must
        # not paint its older picture over a newer one
        with self.render_lock:
            now = self.clock()
            with self.lock:
                state = self.model.icon_state()
                tooltip = self.model.tooltip(now)
                menu = self.model.menu(now)
            if force or self._shown != (state, tooltip):
                if force or self._shown is None or self._shown[0] != state:
                    self.icon.tray_state = state
                    self.icon.icon = render(state, ICON_SIZE)
                self.icon.title = tooltip
                self._shown = (state, tooltip)
            if getattr(self.icon, "HAS_MENU", False) and (force or menu != self._shown_menu):
                self._shown_menu = menu
                self.icon.update_menu()

    def _menu_entries(self) -> tuple[MenuEntry, ...]:
        with self.lock:
            return self.model.menu(self.clock())

    def _menu_items(self) -> list[Any]:
        items = [self._menu_item(entry) for entry in self._menu_entries()]
        if self.popup is not None:
            # the backend has no menu: a click runs the default item, which opens ours
            popup = self.popup
            items.append(
                self._pystray.MenuItem("Menu", lambda: popup.show(), default=True, visible=False)
            )
        return items

    def _menu_item(self, entry: MenuEntry) -> Any:
        pystray = self._pystray
        if entry.is_separator:
            return pystray.Menu.SEPARATOR
        if entry.children:
            submenu = pystray.Menu(*(self._menu_item(child) for child in entry.children))
            return pystray.MenuItem(entry.text, submenu, enabled=entry.enabled)
        action = entry.action

        def chosen(_icon: Any, _item: Any) -> None:
            if action is not None:
                self.perform(action)

        return pystray.MenuItem(entry.text, chosen, enabled=entry.enabled and action is not None)

    def _make_icon(self, pystray: Any) -> Any:
        icon_class = xorg.icon_class(pystray) if backend_name(pystray) == "xorg" else pystray.Icon
        icon = icon_class(
            "modeld",
            icon=render(IconState.DISCONNECTED, ICON_SIZE),
            title="modeld",
            menu=pystray.Menu(self._menu_items),
        )
        icon.tray_state = IconState.DISCONNECTED
        return icon
