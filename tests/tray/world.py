"""A daemon's world for tray tests: config, drop folder, a real `modeld run`, a fake notify-send."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.tray.xserver import wait_until


class World:
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
        # -I skips site-packages: the tray gives notify-send 5 s, and a loaded CI
        # machine should not spend them importing the venv's .pth hooks
        fake.write_text(
            f"#!{sys.executable} -I\nimport json, sys\n"
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

    def status(self) -> dict:
        result = subprocess.run(
            self.modeld("status", "--json"), capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

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
