"""A menu for trays whose pystray backend has none: a Tk popup at the pointer.

pystray's X11 backend (what a pip install gets on Linux without PyGObject)
shows no menu, which would leave Pause, Quit and the folders out of reach.
Clicking the icon opens the same menu, built from the same menu model, with
Tk from the standard library. Tk is used only from its own thread.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from modeld.tray.menu import Action, MenuEntry

log = logging.getLogger(__name__)

POLL_MS = 50


def tk_available() -> bool:
    try:
        import tkinter  # noqa: F401
    except ImportError:
        return False
    return True


class PopupMenu:
    def __init__(
        self,
        entries: Callable[[], tuple[MenuEntry, ...]],
        perform: Callable[[Action], None],
    ):
        self._entries = entries
        self._perform = perform
        self._requests: queue.Queue[str | None] = queue.Queue()
        self._ready = threading.Event()
        self._root: Any = None
        self._menu: Any = None

    def start(self) -> bool:
        """Start the Tk thread; False when Tk cannot open the display."""
        threading.Thread(target=self._run, name="tray-menu", daemon=True).start()
        self._ready.wait(10)
        return self._root is not None

    def show(self) -> None:
        """Open the menu at the pointer (from any thread)."""
        self._requests.put("show")

    def close(self) -> None:
        self._requests.put(None)

    # ---- the Tk thread ---------------------------------------------------------

    def _run(self) -> None:
        import tkinter

        try:
            root = tkinter.Tk(className="modeld")
        except tkinter.TclError as exc:
            log.warning("no tray menu: Tk cannot open the display (%s)", exc)
            self._ready.set()
            return
        root.withdraw()
        self._root = root
        self._ready.set()
        root.after(POLL_MS, self._poll)
        root.mainloop()
        self._root = None

    def _poll(self) -> None:
        try:
            while True:
                request = self._requests.get_nowait()
                if request is None:
                    self._root.destroy()
                    return
                self._popup()
        except queue.Empty:
            pass
        self._root.after(POLL_MS, self._poll)

    def _popup(self) -> None:
        if self._menu is not None:
            self._menu.destroy()
        self._menu = self._build(self._root, self._entries())
        x, y = self._root.winfo_pointerxy()
        try:
            self._menu.tk_popup(x, y)
        finally:
            self._menu.grab_release()

    def _build(self, parent: Any, entries: tuple[MenuEntry, ...]) -> Any:
        import tkinter

        menu = tkinter.Menu(parent, tearoff=False)
        for entry in entries:
            if entry.is_separator:
                menu.add_separator()
            elif entry.children:
                menu.add_cascade(
                    label=entry.text,
                    menu=self._build(menu, entry.children),
                    state="normal" if entry.enabled else "disabled",
                )
            elif entry.action is None:
                menu.add_command(label=entry.text, state="disabled")
            else:
                menu.add_command(
                    label=entry.text,
                    command=functools.partial(self._perform, entry.action),
                    state="normal" if entry.enabled else "disabled",
                )
        return menu
