"""The tray app's wiring against a real `modeld run`: menu actions, notifications, reconnection.

The icon is a stand-in that records what the app shows (pystray's backends
all need a desktop); the menu items are pystray's own Menu/MenuItem, which
work without one. tests/tray/test_xorg.py runs the same app in a real tray.
"""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace

import pytest

from modeld.config import load_config
from modeld.tray import app as tray_app
from modeld.tray.app import TrayApp, retry_delay
from modeld.tray.state import IconState
from tests import modelfiles
from tests.tray.world import World
from tests.tray.xserver import wait_until


@pytest.fixture(scope="module")
def pystray():
    # the dummy backend imports anywhere; only Menu and MenuItem are used from it
    previous = os.environ.get("PYSTRAY_BACKEND")
    os.environ["PYSTRAY_BACKEND"] = "dummy"
    try:
        import pystray as module
    finally:
        if previous is None:
            os.environ.pop("PYSTRAY_BACKEND", None)
        else:
            os.environ["PYSTRAY_BACKEND"] = previous
    return module


class RecordingIcon:
    """Stands in for pystray.Icon: records what the app shows."""

    HAS_MENU = True
    HAS_NOTIFICATION = True

    def __init__(self, name, icon=None, title=None, menu=None):
        self.name, self.icon, self.title, self.menu = name, icon, title, menu
        self.visible = False
        self.notified: list[tuple[str, str]] = []
        self.menu_updates = 0
        self.stopped = threading.Event()

    def notify(self, message: str, title: str) -> None:
        self.notified.append((title, message))

    def update_menu(self) -> None:
        self.menu_updates += 1

    def stop(self) -> None:
        self.stopped.set()


@pytest.fixture
def app(world: World, pystray):
    fake_pystray = SimpleNamespace(Icon=RecordingIcon, Menu=pystray.Menu, MenuItem=pystray.MenuItem)
    opened: list[str] = []
    tray = TrayApp(load_config(world.config), fake_pystray, opener=opened.append)
    tray.opened = opened
    tray._setup(tray.icon)  # what pystray's run() does once its loop is up
    yield tray
    tray.stopping.set()


def items(app: TrayApp) -> dict[str, object]:
    return {item.text: item for item in app.icon.menu.items if item.text != "- - - -"}


def choose(app: TrayApp, text: str) -> None:
    item = items(app)[text]
    assert item.enabled, f"{text} is disabled"
    item(app.icon)


def test_menu_actions_reach_the_daemon(world: World, app: TrayApp):
    world.start_daemon()
    wait_until(lambda: app.icon.tray_state is IconState.IDLE, "the idle icon")
    assert app.icon.visible
    menu = items(app)
    assert list(menu)[:3] == ["Idle", "Imported today: 0", "Queue: 0"]
    assert not menu["Idle"].enabled

    choose(app, "Pause")
    wait_until(lambda: world.status()["state"] == "paused", "the daemon to pause")
    wait_until(lambda: app.icon.tray_state is IconState.PAUSED, "the paused icon")
    assert "Resume" in items(app) and "Pause" not in items(app)
    choose(app, "Resume")
    wait_until(lambda: world.status()["state"] == "running", "the daemon to resume")

    choose(app, "Open library folder")
    choose(app, "Open drop folder")
    assert app.opened == [str(world.root / "library"), str(world.drop)]

    choose(app, "Check links now")  # no apps configured: nothing to check, and it says so
    wait_until(lambda: app.icon.notified, "the link check's answer")
    assert app.icon.notified[-1] == (
        "Links are fine",
        "0 checked: 0 ok, 0 broken, 0 missing, 0 orphaned",
    )

    choose(app, "Quit tray")
    assert app.icon.stopped.wait(60)  # bounds a hang only
    assert world.status()["state"] == "running"  # quitting the tray leaves the daemon alone


def test_a_status_snapshot_older_than_an_event_does_not_undo_it(
    world: World, app: TrayApp, monkeypatch
):
    world.start_daemon()
    wait_until(lambda: app.icon.tray_state is IconState.IDLE, "the idle icon")
    real_call = tray_app.call

    def snapshot_then_pause(socket_path, command, **kwargs):
        # the real daemon answers "running"; then, before that answer is applied,
        # a real pause arrives on the subscription (the race, made certain)
        status = real_call(socket_path, command, **kwargs)
        world.cli("pause")
        wait_until(lambda: app.icon.tray_state is IconState.PAUSED, "the paused event")
        return status

    monkeypatch.setattr(tray_app, "call", snapshot_then_pause)
    app._refresh_status()
    assert app.icon.tray_state is IconState.PAUSED
    assert "Resume" in items(app)
    assert app.refresh_wanted.is_set()  # the stale snapshot was dropped; a fresh one follows


def test_imports_show_up_in_menu_and_notification(world: World, app: TrayApp):
    world.start_daemon()
    wait_until(lambda: app.model.connected, "the tray to connect")
    model_file = modelfiles.lora(world.outside / "detail-tweaker.safetensors")
    os.rename(model_file, world.drop / model_file.name)
    wait_until(lambda: app.icon.notified, "the import notification")
    ((title, body),) = app.icon.notified  # through pystray's notify: this backend has it
    assert title == "Imported detail-tweaker"
    assert body.startswith("lora")

    recent = items(app)["Recent imports"]
    (entry,) = list(recent.submenu.items)
    assert entry.text == "detail-tweaker (lora)"
    entry(app.icon)
    assert app.opened == [world.status()["recent"][0]["path"]]
    assert "Imported today: 1" in items(app)


def test_quarantine_entry_counts_opens_and_clears_attention(world: World, app: TrayApp):
    world.start_daemon()
    wait_until(lambda: app.model.connected, "the tray to connect")
    evil = modelfiles.write_torch_zip_pickle(
        world.outside / "evil.pt", "os.system", marker=world.root / "pwned"
    )
    os.rename(evil, world.drop / "evil.pt")
    wait_until(lambda: app.icon.tray_state is IconState.ATTENTION, "the attention icon")
    wait_until(lambda: "Quarantine (1)" in items(app), "the quarantine count")
    choose(app, "Quarantine (1)")
    assert app.opened == [str(world.root / "library" / ".modeld" / "quarantine")]
    wait_until(lambda: app.icon.tray_state is IconState.IDLE, "attention to clear once seen")
    assert not (world.root / "pwned").exists()


def test_tray_reconnects_when_the_daemon_comes_back(world: World, app: TrayApp):
    wait_until(lambda: app.icon.tray_state is IconState.DISCONNECTED, "the not-running icon")
    assert "Daemon not running" in app.icon.title
    assert not items(app)["Pause"].enabled
    world.start_daemon()
    wait_until(lambda: app.icon.tray_state is IconState.IDLE, "the idle icon")
    world.stop_daemon()
    wait_until(lambda: app.icon.tray_state is IconState.DISCONNECTED, "the not-running icon")
    world.start_daemon()
    wait_until(lambda: app.icon.tray_state is IconState.IDLE, "the idle icon again")
    assert app.icon.menu_updates > 0  # the menu was told to rebuild as things changed


def test_retry_delays_back_off_to_five_seconds():
    assert [retry_delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
