"""`modeld tray` without a desktop, and the promise that nothing else loads pystray."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.tray.world import World


def test_without_a_display_modeld_tray_says_so_in_one_line(world: World):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        world.modeld("tray"), env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "modeld: no graphical display (DISPLAY and WAYLAND_DISPLAY are unset); "
        "run `modeld tray` inside a desktop session"
    ]
    assert result.stdout == ""


def test_an_unreachable_display_is_one_line_too(world: World):
    env = {**os.environ, "DISPLAY": ":4095", "PYSTRAY_BACKEND": "xorg"}  # no server there
    result = subprocess.run(
        world.modeld("tray"), env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("modeld: cannot show a tray icon: ")
    assert ":4095" in line


def test_the_daemon_and_the_cli_never_import_pystray():
    code = (
        "import sys, modeld.cli, modeld.daemon.app, modeld.cli.daemon\n"
        "modeld.cli.build_parser()\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('pystray', 'modeld.tray.app')))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_modeld_run_starts_no_tray_when_disabled_or_without_a_display(world: World):
    from modeld.config import load_config
    from modeld.tray.launch import has_display, start_tray

    config = load_config(world.config)  # [tray] enabled = false
    assert start_tray(config, environ={"DISPLAY": ":0"}) is None
    enabled = world.config.read_text().replace("[tray]\nenabled = false", "[tray]\nenabled = true")
    world.config.write_text(enabled)
    assert start_tray(load_config(world.config), environ={"PATH": "/usr/bin"}) is None
    assert not has_display({}, platform="linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, platform="linux")
    assert has_display({}, platform="darwin")
