"""`modeld tray` on a real X server, in a real system tray, against a real `modeld run`.

The daemon's state is changed the way a user would (pause, resume, dropping
files, stopping and restarting it) and every change is checked on the screen:
the icon's pixels in a screenshot of the tray, and its title (the tooltip) on
the icon's window. Notifications go to a stand-in `notify-send` that records
its arguments (pystray's X11 backend has none of its own, and there is no
notification daemon without a desktop session).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeld.tray.state import IconState
from tests import modelfiles
from tests.tray.xserver import Screen, XServer, classify, shown_state, wait_until, xserver  # noqa: F401

pytestmark = pytest.mark.x11


class Home:
    """A daemon's world under one short temp folder, plus a stand-in notify-send."""

    def __init__(self, root: Path):
        self.root = root
        self.drop = root / "drop"
        self.drop.mkdir()
        self.outside = root / "outside"  # files are written here, then moved into the drop
        self.outside.mkdir()
        self.config = root / "config.toml"
        self.config.write_text(
            f'[library]\nroot = "{root / "library"}"\n\n'
            f'[daemon]\nstate_dir = "{root / "state"}"\nsettle_seconds = 0.5\n\n'
            f'[[watch]]\npath = "{self.drop}"\n\n'
            "[hub]\nenabled = false\n\n[tray]\nenabled = false\n"
        )
        self.bin = root / "bin"
        self.bin.mkdir()
        self.notifications_log = root / "notify-send.log"
        fake = self.bin / "notify-send"
        fake.write_text(
            f"#!{sys.executable}\nimport json, sys\n"
            f"with open({str(self.notifications_log)!r}, 'a') as log:\n"
            "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        )
        fake.chmod(0o755)
        self.daemon: subprocess.Popen | None = None

    def modeld(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "modeld", "--config", str(self.config), *args]

    def start_daemon(self) -> None:
        log = open(self.root / "daemon.log", "ab")  # noqa: SIM115  (closed with the process)
        self.daemon = subprocess.Popen(self.modeld("run"), stdout=log, stderr=log)
        wait_until(
            lambda: subprocess.run(self.modeld("status"), capture_output=True).returncode == 0,
            "the daemon to answer",
        )

    def stop_daemon(self) -> None:
        assert self.daemon is not None
        self.daemon.send_signal(signal.SIGTERM)
        assert self.daemon.wait(timeout=60) == 0

    def cli(self, *args: str) -> None:
        result = subprocess.run(self.modeld(*args), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

    def models(self) -> list[dict]:
        """What the library holds (read from its folders: works while the daemon is frozen)."""
        library = self.root / "library"
        return [json.loads(p.read_text()) for p in library.rglob("metadata.json")]

    def notifications(self) -> list[tuple[str, str]]:
        """(title, body) of every notification shown so far."""
        if not self.notifications_log.exists():
            return []
        calls = [json.loads(line) for line in self.notifications_log.read_text().splitlines()]
        return [(argv[-2], argv[-1]) for argv in calls]


@pytest.fixture
def home() -> Iterator[Home]:
    root = Path(tempfile.mkdtemp(prefix="mdt-", dir="/tmp"))  # unix socket paths are short
    world = Home(root)
    yield world
    if world.daemon is not None and world.daemon.poll() is None:
        world.daemon.kill()
        world.daemon.wait()
    subprocess.run(["rm", "-rf", str(root)], check=False)


@pytest.fixture
def tray(xserver: XServer, home: Home) -> Iterator[subprocess.Popen]:  # noqa: F811
    env = {
        **xserver.env(),
        "PYSTRAY_BACKEND": "xorg",
        "PATH": f"{home.bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = open(home.root / "tray.log", "wb")  # noqa: SIM115
    # -X faulthandler: if the test fails with the tray still running, SIGABRT makes it
    # print every thread's stack into its log before it dies
    command = [sys.executable, "-X", "faulthandler", *home.modeld("tray", "--wait", "30")[1:]]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGABRT)
        process.wait(timeout=30)
    for name in ("tray.log", "daemon.log"):  # pytest shows these when the test failed
        path = home.root / name
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


def test_the_tray_icon_follows_the_daemon(xserver: XServer, home: Home, tray):  # noqa: F811
    with Screen(xserver.display) as screen:
        # no daemon yet: the tray is up and says so, and keeps trying
        tip = expect(screen, IconState.DISCONNECTED, "Daemon not running")
        assert tip.startswith("modeld: ")

        home.start_daemon()
        expect(screen, IconState.IDLE, "modeld: Idle")

        home.cli("pause")
        expect(screen, IconState.PAUSED, "modeld: Paused")
        home.cli("resume")
        expect(screen, IconState.IDLE)

        # the daemon goes away and comes back: the tray notices both
        home.stop_daemon()
        expect(screen, IconState.DISCONNECTED, "Daemon not running")
        home.start_daemon()
        expect(screen, IconState.IDLE)

        # an import in progress: a 2 GiB (sparse) model. The moment the tray's tooltip
        # shows it, the daemon is frozen (SIGSTOP) so the icon can be read at leisure.
        assert home.daemon is not None
        big = modelfiles.write_safetensors(
            home.outside / "big-model.safetensors", {"weight": ("F16", [1 << 30])}
        )
        os.rename(big, home.drop / big.name)
        window = wait_until(screen.icon_window, "the icon window")
        wait_until(
            lambda: "Importing" in screen.tooltip(window),
            "the tooltip to show the import",
            60,
            0.005,
        )
        os.kill(home.daemon.pid, signal.SIGSTOP)
        try:
            assert not home.models(), "the import finished before the screen could be read"
            tip = expect(screen, IconState.IMPORTING, "big-model.safetensors")
            assert "Importing 1 file" in tip
        finally:
            os.kill(home.daemon.pid, signal.SIGCONT)
        expect(screen, IconState.IDLE)
        wait_until(
            lambda: [b for t, b in home.notifications() if t == "Imported big-model"],
            "the import notification",
        )
        (body,) = [b for t, b in home.notifications() if t == "Imported big-model"]
        assert "2.1 GB" in body

        # a refused file asks for attention and says why
        modelfiles.write_torch_zip_pickle(
            home.outside / "evil.pt", "os.system", marker=home.root / "pwned"
        )
        os.rename(home.outside / "evil.pt", home.drop / "evil.pt")
        expect(screen, IconState.ATTENTION, "1 file quarantined")
        wait_until(
            lambda: any(t == "Quarantined evil.pt" for t, _ in home.notifications()),
            "the quarantine notification",
        )
        assert not (home.root / "pwned").exists()

    # SIGTERM ends the tray cleanly; the daemon keeps running
    tray.send_signal(signal.SIGTERM)
    assert tray.wait(timeout=30) == 0
    home.cli("status")


def test_tray_exits_with_one_line_when_no_system_tray_appears(home: Home, tmp_path: Path):
    from tests.tray.xserver import start_xvfb

    xvfb, display = start_xvfb(tmp_path)  # an X server, but no panel with a tray
    try:
        env = {**os.environ, "DISPLAY": display, "PYSTRAY_BACKEND": "xorg"}
        result = subprocess.run(
            home.modeld("tray", "--wait", "0.5"),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        xvfb.terminate()
        xvfb.wait()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"modeld: no system tray on display {display} after 0.5 s "
        "(start a panel with a notification area, or use a desktop that has one)"
    ]
