"""`modeld tray` on a real X server, in a real system tray, against a real `modeld run`.

The daemon's state is changed the way a user would (the tray's own menu opened
by a real click, the command line, dropping files, stopping and restarting the
daemon) and every change is checked on the screen:
the icon's pixels in a screenshot of the tray, and its title (the tooltip) on
the icon's window. Notifications go to a stand-in `notify-send` that records
its arguments (pystray's X11 backend has none of its own, and there is no
notification daemon without a desktop session).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from modeld.tray import xorg
from modeld.tray.backend import TrayUnavailable
from modeld.tray.state import IconState
from tests import modelfiles
from tests.tray.world import World
from tests.tray.xserver import (
    Screen,
    XServer,
    classify,
    click,
    popup_menus,
    press,
    shown_state,
    wait_until,
)

pytestmark = pytest.mark.x11


def tray_env(xserver: XServer, world: World) -> dict[str, str]:
    return {
        **xserver.env(),
        "PYSTRAY_BACKEND": "xorg",
        "PATH": f"{world.bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@pytest.fixture
def tray(xserver: XServer, world: World) -> Iterator[subprocess.Popen]:
    env = tray_env(xserver, world)
    log = open(world.root / "tray.log", "wb")  # noqa: SIM115
    # -X faulthandler: if the test fails with the tray still running, SIGABRT makes it
    # print every thread's stack into its log before it dies
    command = [sys.executable, "-X", "faulthandler", *world.modeld("tray", "--wait", "30")[1:]]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGABRT)
        process.wait(timeout=30)
    for name in ("tray.log", "daemon.log"):  # pytest shows these when the test failed
        path = world.root / name
        if path.exists():
            print(f"---- {name} ----\n" + path.read_text(errors="replace")[-5000:])
    log.close()


def expect(screen: Screen, state: IconState, tooltip_has: str = "") -> str:
    """Wait until the tray shows `state` (and a tooltip containing `tooltip_has`)."""
    seen: list[object] = []

    def showing() -> str | None:
        shown, tooltip, icon = shown_state(screen)
        seen[:] = [
            shown,
            tooltip,
            icon.size if icon else None,
            classify(icon)[:2] if icon else None,
        ]
        return tooltip if shown is state and tooltip_has in tooltip else None

    try:
        return wait_until(showing, f"the {state} icon")  # type: ignore[return-value]
    except AssertionError:
        raise AssertionError(f"expected {state} / {tooltip_has!r}; the tray shows {seen}") from None


def choose_first_item(screen: Screen) -> None:
    """Click the icon, then choose the menu's first enabled item with the keyboard."""
    click(screen, wait_until(screen.icon_window, "the icon window"), button=3)
    wait_until(lambda: popup_menus(screen), "the menu to open")
    press(screen, "Down")  # Tk's menus skip disabled items and separators
    press(screen, "Return")
    wait_until(lambda: not popup_menus(screen), "the menu to close")


def test_the_tray_icon_follows_the_daemon(xserver: XServer, world: World, tray):
    with Screen(xserver.display) as screen:
        # no daemon yet: the tray is up and says so, and keeps trying
        tip = expect(screen, IconState.DISCONNECTED, "Daemon not running")
        assert tip.startswith("modeld: ")

        world.start_daemon()
        expect(screen, IconState.IDLE, "modeld: Idle")

        # pause from the tray's own menu: a real click on the icon opens it (Tk, since
        # pystray's X11 backend has none), and the first item that can be chosen is Pause
        choose_first_item(screen)
        expect(screen, IconState.PAUSED, "modeld: Paused")
        assert world.status()["state"] == "paused"
        world.cli("resume")  # and from the command line
        expect(screen, IconState.IDLE)
        world.cli("pause")
        expect(screen, IconState.PAUSED)
        choose_first_item(screen)  # now Resume
        expect(screen, IconState.IDLE)
        assert world.status()["state"] == "running"

        # the daemon goes away and comes back: the tray notices both
        world.stop_daemon()
        expect(screen, IconState.DISCONNECTED, "Daemon not running")
        world.start_daemon()
        expect(screen, IconState.IDLE)

        # an import in progress: a 2 GiB (sparse) model. The moment the tray's tooltip
        # shows it, the daemon is frozen (SIGSTOP) so the icon can be read at leisure.
        assert world.daemon is not None
        big = modelfiles.write_safetensors(
            world.outside / "big-model.safetensors", {"weight": ("F16", [1 << 30])}
        )
        os.rename(big, world.drop / big.name)
        window = wait_until(screen.icon_window, "the icon window")
        wait_until(
            lambda: "Importing" in screen.tooltip(window),
            "the tooltip to show the import",
            60,
            0.005,
        )
        os.kill(world.daemon.pid, signal.SIGSTOP)
        try:
            assert not world.models(), "the import finished before the screen could be read"
            tip = expect(screen, IconState.IMPORTING, "big-model.safetensors")
            assert "Importing 1 file" in tip
        finally:
            os.kill(world.daemon.pid, signal.SIGCONT)
        expect(screen, IconState.IDLE)
        wait_until(
            lambda: [b for t, b in world.notifications() if t == "Imported big-model"],
            "the import notification",
        )
        (body,) = [b for t, b in world.notifications() if t == "Imported big-model"]
        assert "2.1 GB" in body

        # a refused file asks for attention and says why
        modelfiles.write_torch_zip_pickle(
            world.outside / "evil.pt", "os.system", marker=world.root / "pwned"
        )
        os.rename(world.outside / "evil.pt", world.drop / "evil.pt")
        expect(screen, IconState.ATTENTION, "1 file quarantined")
        wait_until(
            lambda: any(t == "Quarantined evil.pt" for t, _ in world.notifications()),
            "the quarantine notification",
        )
        assert not (world.root / "pwned").exists()

    # a second tray for the same daemon (autostart and a service both start one) steps aside
    second = subprocess.run(
        world.modeld("tray"),
        env=tray_env(xserver, world),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (second.returncode, second.stderr) == (
        0,
        f"modeld: modeld tray is already running (pid {tray.pid})\n",
    )

    # SIGTERM ends the tray cleanly; the daemon keeps running
    tray.send_signal(signal.SIGTERM)
    assert tray.wait(timeout=30) == 0
    world.cli("status")


def test_tray_exits_with_one_line_when_no_system_tray_appears(world: World, bare_display: str):
    env = {**os.environ, "DISPLAY": bare_display, "PYSTRAY_BACKEND": "xorg"}
    result = subprocess.run(
        world.modeld("tray", "--wait", "0.5"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"modeld: no system tray on display {bare_display} after 0.5 s "
        "(start a panel with a notification area, or use a desktop that has one)"
    ]


def test_waiting_for_a_tray_ends_when_one_is_there(xserver: XServer, monkeypatch):
    monkeypatch.setenv("DISPLAY", xserver.display)  # the fixture waited for trayer's tray
    # No time at all to wait: with no tray this raises TrayUnavailable (the test below),
    # so returning shows the wait ended by finding the tray, never by sitting out a timeout
    assert xorg.wait_for_tray(0) is None


def test_waiting_for_a_tray_gives_up_with_the_display_named(bare_display: str, monkeypatch):
    monkeypatch.setenv("DISPLAY", bare_display)
    with pytest.raises(TrayUnavailable) as gave_up:
        xorg.wait_for_tray(0.3)
    assert str(gave_up.value).startswith(f"no system tray on display {bare_display} after 0.3 s")


def test_modeld_run_starts_the_tray_where_a_display_exists(xserver: XServer, world: World):
    from modeld.config import load_config
    from modeld.tray.launch import start_tray, stop_tray

    world.config.write_text(
        world.config.read_text().replace("[tray]\nenabled = false", "[tray]\nenabled = true")
    )
    config = load_config(world.config)
    assert config.tray.enabled
    process = start_tray(config, environ={**xserver.env(), "PYSTRAY_BACKEND": "xorg"})
    assert process is not None
    try:
        with Screen(xserver.display) as screen:
            wait_until(screen.icon_window, "the icon to dock")
    finally:
        stop_tray(process)
    assert process.returncode == 0
