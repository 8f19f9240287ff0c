"""pystray's X11 (XEmbed) backend, mended, and the wait for a system tray to appear.

Xlib is imported inside these functions: it is only there when pystray's X11
backend is, and only the tray process on an X display may load it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PIL import Image

from modeld.tray.backend import one_line
from modeld.tray.errors import TrayUnavailable
from modeld.tray.icons import render_flat
from modeld.tray.state import IconState

log = logging.getLogger(__name__)

TRAY_HOST_POLL_SECONDS = 0.25


def wait_for_tray(timeout: float) -> None:
    """Wait until an X11 system tray (an owner of _NET_SYSTEM_TRAY_Sn) exists."""
    import Xlib.display
    import Xlib.X

    try:
        display = Xlib.display.Display()
    except Exception as exc:
        raise TrayUnavailable(f"cannot open the X display: {one_line(exc)}") from None
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


def icon_class(pystray: Any) -> type:
    """The X11 backend's Icon class with the fixes below (pystray is already imported)."""
    import Xlib.display
    import Xlib.error
    import Xlib.protocol.event
    import Xlib.X

    # pystray ships no types: its Icon is Any, and the class mends its internals
    class XorgIcon(pystray.Icon):  # type: ignore[misc]
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
        _icon_data: Image.Image | None  # pystray's, set in its __init__

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
            # a Window at run time (python-xlib's stubs say int), as pystray uses it too
            owner: Any = self._painter.get_selection_owner(self._tray_selection)
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
            # the stubs want the GC's id; python-xlib takes the GC object, as pystray passes it
            self._painted.put_pil_image(self._painter_gc, 0, 0, image)  # type: ignore[arg-type]
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
            # attributes on the image: pystray's own way (it sets tostring for python-xlib)
            image.tray_key = key  # type: ignore[attr-defined]
            image.tostring = image.tobytes  # type: ignore[attr-defined]
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
