"""A real X server (Xvfb) with a real system tray (trayer), and ways to look at the tray.

The screenshot is taken from the X server's own framebuffer (GetImage on the
root window), the way a screenshot tool does it, and the icon found in it is
matched against what each state's icon looks like.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from modeld.tray.icons import render_flat
from modeld.tray.state import IconState

BOUND = 60.0  # only catches a hang; no test asserts on time


def wait_until(
    condition: Callable[[], object], what: str, bound: float = BOUND, interval: float = 0.05
) -> object:
    deadline = time.monotonic() + bound
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(interval)


def require(program: str, package: str) -> str:
    """The program's path; skip (fail in CI, which must install it) when it is missing."""
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed (Debian package {package}; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class XServer:
    display: str
    processes: list[subprocess.Popen]

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}


def start_xvfb(log_dir: Path) -> tuple[subprocess.Popen, str]:
    """Xvfb on a free display number, which it reports through -displayfd.

    -noreset: by default an X server resets when its last client disconnects, and
    refuses connections while it does. pystray's import opens and closes a
    connection, and `modeld tray` opens the next one at once: with no panel
    connected (a desktop session always has some client), that one raced the
    reset and got "Connection reset by peer".
    """
    xvfb = require("Xvfb", "xvfb")
    read_fd, write_fd = os.pipe()
    command = [xvfb, "-displayfd", str(write_fd), "-screen", "0", "320x120x24"]
    process = subprocess.Popen(
        [*command, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=open(log_dir / "xvfb.log", "wb"),  # noqa: SIM115  (lives as long as Xvfb)
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        process.kill()
        raise AssertionError(f"Xvfb did not start: {(log_dir / 'xvfb.log').read_text()}")
    return process, f":{number}"


@pytest.fixture
def bare_display(tmp_path: Path) -> Iterator[str]:
    """Xvfb alone: an X display with no panel, so no system tray."""
    xvfb, display = start_xvfb(tmp_path)
    try:
        yield display
    finally:
        xvfb.terminate()
        xvfb.wait()


@pytest.fixture
def xserver(tmp_path: Path) -> Iterator[XServer]:
    """Xvfb plus trayer, a small XEmbed system tray, docked at the top left."""
    trayer = require("trayer", "trayer")
    xvfb, display = start_xvfb(tmp_path)
    server = XServer(display, [xvfb])
    try:
        tray = subprocess.Popen(
            [trayer, "--edge", "top", "--align", "left", "--widthtype", "request",
             "--height", "32", "--transparent", "false", "--tint", "0x202020"],
            env=server.env(),
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "trayer.log", "wb"),  # noqa: SIM115
        )  # fmt: skip
        server.processes.append(tray)
        with Screen(server.display) as screen:
            wait_until(screen.tray_host_running, "trayer to own the system tray selection")
        yield server
    finally:
        for process in reversed(server.processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Screen:
    """A python-xlib connection for looking at the tray."""

    def __init__(self, display: str):
        import Xlib.display

        self.xdisplay = Xlib.display.Display(display)
        self.root = self.xdisplay.screen().root

    def __enter__(self) -> Screen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.xdisplay.close()

    def tray_host_running(self) -> bool:
        import Xlib.X

        atom = self.xdisplay.intern_atom(f"_NET_SYSTEM_TRAY_S{self.xdisplay.get_default_screen()}")
        return self.xdisplay.get_selection_owner(atom) != Xlib.X.NONE

    def icon_window(self):
        """modeld's icon window, once the tray has embedded it (None before)."""
        for window in self._walk(self.root):
            try:
                wm_class = window.get_wm_class()
            except Exception:  # a window that vanished while we looked
                continue
            if wm_class == ("modeldSystemTrayIcon", "modeld"):
                parent = window.query_tree().parent
                if parent.id != self.root.id:  # reparented: docked in the tray
                    return window
        return None

    def _walk(self, window) -> Iterator:
        try:
            children = window.query_tree().children
        except Exception:
            return
        for child in children:
            yield child
            yield from self._walk(child)

    def tooltip(self, window) -> str:
        prop = window.get_full_property(
            self.xdisplay.intern_atom("_NET_WM_NAME"), self.xdisplay.intern_atom("UTF8_STRING")
        )
        return prop.value.decode() if prop is not None else ""

    def tray_area(self, window) -> tuple[Image.Image, tuple[int, int, int, int]]:
        """A screenshot of the whole tray panel, and the icon's box inside it."""
        panel = window
        while (parent := panel.query_tree().parent).id != self.root.id:
            panel = parent
        pg = panel.get_geometry()
        ig = window.get_geometry()
        origin = self.root.translate_coords(window, 0, 0)
        shot = self.screenshot(pg.x, pg.y, pg.width, pg.height)
        box = (
            origin.x - pg.x,
            origin.y - pg.y,
            origin.x - pg.x + ig.width,
            origin.y - pg.y + ig.height,
        )
        return shot, box

    def screenshot(self, x: int, y: int, width: int, height: int) -> Image.Image:
        import Xlib.X

        reply = self.root.get_image(x, y, width, height, Xlib.X.ZPixmap, 0xFFFFFFFF)
        order = "BGRX" if self.xdisplay.display.info.image_byte_order == 0 else "XRGB"
        return Image.frombytes("RGB", (width, height), reply.data, "raw", order)


def classify(icon: Image.Image) -> list[tuple[float, IconState]]:
    """Every state with the mean pixel difference to its icon, closest first."""
    scores = []
    for state in IconState:
        expected = render_flat(state, icon.width, icon.height)
        difference = ImageStat.Stat(ImageChops.difference(icon, expected)).mean
        scores.append((sum(difference) / 3, state))
    return sorted(scores)


def shown_state(screen: Screen) -> tuple[IconState | None, str, Image.Image | None]:
    """The state whose icon is on screen now (None if none matches closely), and the tooltip."""
    window = screen.icon_window()
    if window is None:
        return None, "", None
    try:
        shot, box = screen.tray_area(window)
        tooltip = screen.tooltip(window)
    except Exception:  # the icon was being redrawn or re-docked this instant
        return None, "", None
    icon = shot.crop(box)
    (best, state), (second, _) = classify(icon)[:2]
    # an exact match is ~0; anything close to another state's icon is not a match
    if best < 4.0 and second > 4 * best + 8:
        return state, tooltip, icon
    return None, tooltip, icon


def click(screen: Screen, window, button: int = 1) -> None:
    """A real pointer click in the middle of `window`, through the XTEST extension."""
    import Xlib.X
    from Xlib.ext import xtest

    geometry = window.get_geometry()
    origin = screen.root.translate_coords(window, 0, 0)
    x, y = origin.x + geometry.width // 2, origin.y + geometry.height // 2
    xtest.fake_input(screen.xdisplay, Xlib.X.MotionNotify, x=x, y=y)
    xtest.fake_input(screen.xdisplay, Xlib.X.ButtonPress, button)
    xtest.fake_input(screen.xdisplay, Xlib.X.ButtonRelease, button)
    screen.xdisplay.sync()


def press(screen: Screen, key: str) -> None:
    """A real key press and release (by keysym name: "Down", "Return")."""
    import Xlib.X
    import Xlib.XK
    from Xlib.ext import xtest

    keycode = screen.xdisplay.keysym_to_keycode(Xlib.XK.string_to_keysym(key))
    xtest.fake_input(screen.xdisplay, Xlib.X.KeyPress, keycode)
    xtest.fake_input(screen.xdisplay, Xlib.X.KeyRelease, keycode)
    screen.xdisplay.sync()


def popup_menus(screen: Screen) -> list:
    """The Tk popup menus now mapped on screen (override-redirect windows of class Menu)."""
    import Xlib.X

    found = []
    for window in screen.root.query_tree().children:
        try:
            attributes = window.get_attributes()
            wm_class = window.get_wm_class()
        except Exception:
            continue
        if attributes.map_state == Xlib.X.IsViewable and wm_class and wm_class[1] == "Menu":
            found.append(window)
    return found
