"""`modeld tray`: the tray icon process, a client of the daemon's control socket.

pystray is imported here, lazily, and only by this process: it picks its
backend at import time and fails without a display, and the daemon must run
headless. The main thread runs pystray's loop (mandatory on macOS); two
threads feed it:

- the connection thread asks for a status snapshot, then follows the event
  subscription; when the daemon goes away it backs off and reconnects;
- the housekeeping thread refreshes the status after events that change
  counts (debounced, not polled), sends the notifications that are due and
  keeps the tooltip's countdowns current.

All decisions about what to show live in modeld.tray.state (pure).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modeld.control.client import DaemonError, DaemonNotRunning, call, subscribe
from modeld.control.protocol import ProtocolError
from modeld.tray.icons import render, render_flat
from modeld.tray.notify import NotificationSender
from modeld.tray.popup import PopupMenu, tk_available
from modeld.tray.state import (
    Action,
    IconState,
    MenuEntry,
    Notification,
    TrayModel,
    links_check_notification,
)

log = logging.getLogger(__name__)

ICON_SIZE = 64
TICK_SECONDS = 0.25
REFRESH_DEBOUNCE_SECONDS = 0.3
STATUS_TIMEOUT = 5.0
ACTION_TIMEOUT = 600.0  # a link check over a big library takes a while
TRAY_HOST_POLL_SECONDS = 0.25
_CONNECTION_ERRORS = (DaemonNotRunning, DaemonError, ProtocolError, OSError)


class TrayUnavailable(Exception):
    """No display, no tray host or no usable pystray backend; the message is one line."""


class TrayAlreadyRunning(Exception):
    """Another `modeld tray` already shows this daemon (autostart and a service both tried)."""


def retry_delay(attempt: int) -> float:
    """Seconds to wait before reconnection attempt `attempt` (0-based): 0.5, 1, 2, 4, then 5."""
    return min(5.0, 0.5 * 2**attempt)


def run(config, *, tray_wait: float = 15.0) -> int:
    """Show the tray icon until the user quits it or SIGTERM/SIGINT; returns the exit code.

    Raises TrayUnavailable when there is nothing to show an icon on; waits up
    to `tray_wait` seconds for a system tray to appear (a session's panel may
    start after its autostart entries).
    """
    _check_display()
    lock = _single_instance(config.daemon.state_dir / "tray.lock")
    try:
        pystray = _import_pystray()
        if _backend_name(pystray) == "xorg":
            _wait_for_xembed_tray(tray_wait)
        app = TrayApp(config, pystray)
        return app.run()
    finally:
        os.close(lock)


def _single_instance(path: Path) -> int:
    """Hold an exclusive lock on `path` for the life of the process (its fd is returned)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise TrayAlreadyRunning(f"modeld tray is already running (pid {pid})") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


class TrayApp:
    def __init__(
        self,
        config,
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
            icon_path=_notification_icon(config.daemon.state_dir),
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

    def _setup(self, icon) -> None:
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
            log.warning("could not update the tray icon: %s", _one_line(exc))
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
        icon_class = _xorg_icon_class(pystray) if _backend_name(pystray) == "xorg" else pystray.Icon
        icon = icon_class(
            "modeld",
            icon=render(IconState.DISCONNECTED, ICON_SIZE),
            title="modeld",
            menu=pystray.Menu(self._menu_items),
        )
        icon.tray_state = IconState.DISCONNECTED
        return icon


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


# ---- pystray set-up ------------------------------------------------------------


def _check_display() -> None:
    if sys.platform in ("darwin", "win32"):
        return
    if os.environ.get("PYSTRAY_BACKEND") == "dummy":
        raise TrayUnavailable("PYSTRAY_BACKEND=dummy cannot show a tray icon")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise TrayUnavailable(
            "no graphical display (DISPLAY and WAYLAND_DISPLAY are unset); "
            "run `modeld tray` inside a desktop session"
        )


def _import_pystray() -> Any:
    _quiet_pystray_logs()
    try:
        import pystray
    except Exception as exc:  # the backends raise ImportError, Xlib errors and more
        raise TrayUnavailable(f"cannot show a tray icon: {_one_line(exc)}") from None
    return pystray


def _backend_name(pystray: Any) -> str:
    return pystray.Icon.__module__.rsplit(".", 1)[-1].lstrip("_")


def _wait_for_xembed_tray(timeout: float) -> None:
    """Wait until an X11 system tray (an owner of _NET_SYSTEM_TRAY_Sn) exists."""
    import Xlib.display
    import Xlib.X

    try:
        display = Xlib.display.Display()
    except Exception as exc:
        raise TrayUnavailable(f"cannot open the X display: {_one_line(exc)}") from None
    try:
        selection = display.intern_atom(f"_NET_SYSTEM_TRAY_S{display.get_default_screen()}")
        deadline = time.monotonic() + timeout
        while display.get_selection_owner(selection) == Xlib.X.NONE:
            if time.monotonic() >= deadline:
                raise TrayUnavailable(
                    f"no system tray on display {display.get_display_name()} after {timeout:g} s "
                    "(start a panel with a notification area, or use a desktop that has one)"
                )
            time.sleep(TRAY_HOST_POLL_SECONDS)
    finally:
        display.close()


def _xorg_icon_class(pystray: Any) -> type:
    import Xlib.display
    import Xlib.error
    import Xlib.protocol.event
    import Xlib.X

    class XorgIcon(pystray.Icon):
        """pystray's X11 backend, mended where it failed under a real tray.

        - Changes: pystray hands every change (icon, title, show, stop) to its event loop
          through a ClientMessage and a result queue shared by all callers, and the loop
          leaves the requests in python-xlib's output buffer. Under Xvfb + trayer that
          lost updates (the icon changed, its title did not) and now and then never
          answered (a stop that hung). Here they go through a connection of our own,
          used by one thread at a time (the app's render lock; stop comes last).
        - Docking: pystray asked the tray to dock again on every change; the tray then
          re-embedded the icon in a new slot, which flickers and, with trayer, left it
          one pixel wide. It docks once, and again only when the tray was replaced.
        - Image: pystray stretched it to the tray's slot and painted transparent pixels
          black; it is drawn square, at the slot's own size, on a panel colour.
        - Titles outside Latin-1 raised; _NET_WM_NAME carries them as UTF-8.
        - Clicks: pystray never selected ButtonPress events, so a click did nothing;
          now the left or right button opens the menu (see modeld.tray.popup).
        """

        tray_state = IconState.DISCONNECTED

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            # pystray never asks for button presses, so its click handler never runs
            self._window.change_attributes(
                event_mask=Xlib.X.ExposureMask | Xlib.X.StructureNotifyMask | Xlib.X.ButtonPressMask
            )
            self._painter = Xlib.display.Display(self._display.get_display_name())
            self._painter.set_error_handler(
                lambda error, request: log.debug("X error while painting: %s", error)
            )
            self._painted = self._painter.create_resource_object("window", self._window.id)
            self._painter_gc = self._painted.create_gc()
            self._net_wm_name = self._painter.intern_atom("_NET_WM_NAME")
            self._utf8_string = self._painter.intern_atom("UTF8_STRING")
            self._tray_selection = self._painter.intern_atom(
                f"_NET_SYSTEM_TRAY_S{self._painter.get_default_screen()}"
            )
            self._tray_opcode = self._painter.intern_atom("_NET_SYSTEM_TRAY_OPCODE")
            # replace pystray's loop-dispatching wrappers (set on the instance in __init__)
            self._update_icon = self._paint_icon
            self._update_title = self._paint_title
            self._show = self._dock
            self._stop = self._destroy

        def _dock(self) -> None:
            owner = self._painter.get_selection_owner(self._tray_selection)
            if owner == Xlib.X.NONE:
                log.warning("no system tray to show the icon in (yet)")
                return
            # pystray's loop watches the tray's window, and docks again when it goes away
            manager = self._display.create_resource_object("window", owner.id)
            manager.change_attributes(event_mask=Xlib.X.StructureNotifyMask)
            self._display.flush()
            request_dock = Xlib.protocol.event.ClientMessage(
                window=owner.id,
                client_type=self._tray_opcode,
                data=(
                    32,
                    (Xlib.X.CurrentTime, self._SYSTEM_TRAY_REQUEST_DOCK, self._window.id, 0, 0),
                ),
            )
            self._painter.send_event(owner, request_dock, event_mask=Xlib.X.NoEventMask)
            self._painter.flush()
            self._systray_manager = manager

        def _destroy(self) -> None:
            # pystray's loop ends when it sees its window destroyed
            self._painted.destroy()
            self._painter.flush()

        def _paint_icon(self) -> None:
            if self._visible and self._systray_manager is None:
                self._dock()  # the tray went away and maybe came back: dock again
            geometry = self._painted.get_geometry()
            image = render_flat(self.tray_state, geometry.width, geometry.height)
            self._painted.put_pil_image(self._painter_gc, 0, 0, image)
            self._painter.flush()
            self._icon_valid = True

        def _paint_title(self) -> None:
            title = self.title
            self._painted.set_wm_name(title.encode("latin-1", "replace").decode("latin-1"))
            self._painted.change_property(self._net_wm_name, self._utf8_string, 8, title.encode())
            self._painter.flush()

        # ---- inside pystray's event loop (exposure, docking) ----

        def _assert_icon_data(self, width: int, height: int) -> None:
            current = self._icon_data
            key = (self.tray_state, width, height)
            if current is not None and getattr(current, "tray_key", None) == key:
                return
            image = render_flat(self.tray_state, width, height)
            image.tray_key = key
            image.tostring = image.tobytes  # what pystray itself sets for python-xlib
            self._icon_data = image

        def _assert_docked(self) -> None:
            if self._systray_manager is None:
                self._dock_window()
            assert self._systray_manager

        def _on_button_press(self, event: Any) -> None:
            if event.detail in (1, 3):  # pystray only heeds the left button; people right-click
                self()

        def _on_expose(self, event: Any) -> None:
            if event.type == Xlib.X.ConfigureNotify and event.window.id == self._window.id:
                self._slot_size = (event.width, event.height)
            super()._on_expose(event)

        def _draw(self) -> None:
            # pystray asks the server for the size on every draw, a round trip inside
            # its loop that can hang python-xlib; the tray's ConfigureNotify tells it
            size = getattr(self, "_slot_size", None)
            if size is None:
                super()._draw()
            else:
                try:
                    self._assert_icon_data(*size)
                    self._window.put_pil_image(self._gc, 0, 0, self._icon_data)
                except Xlib.error.BadDrawable:
                    pass  # the window is gone: the icon is being stopped
            self._display.flush()

    return XorgIcon


class _OneLineErrors(logging.Filter):
    """pystray logs 'Failed to dock icon' with a traceback whenever the tray is
    missing; one line says the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not logging.getLogger("modeld").isEnabledFor(logging.DEBUG):
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {_one_line(exc) if exc else ''}"
            record.args = ()
            record.exc_info = None
        return True


def _quiet_pystray_logs() -> None:
    for name in ("pystray._base", "pystray"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OneLineErrors) for f in logger.filters):
            logger.addFilter(_OneLineErrors())


def _notification_icon(state_dir: Path) -> Path | None:
    path = state_dir / "tray-icon.png"
    try:
        if not path.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            render(IconState.IDLE, ICON_SIZE).save(path)
    except OSError as exc:
        log.debug("no icon for notifications: %s", exc)
        return None
    return path


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
