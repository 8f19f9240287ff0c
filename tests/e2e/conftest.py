"""A real `modeld run` process on temp folders, and ways to wait on it.

Waits poll a condition with a generous bound; the bound only catches a hung
daemon, it is not a timing assertion.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BOUND = 60.0


def wait_until(condition: Callable[[], object], bound: float = BOUND, what: str = "") -> object:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what or condition}")


class DaemonProcess:
    def __init__(self, home: Path, extra_config: str = ""):
        self.home = home
        self.drop = home / "drop"
        self.config_path = home / "config.toml"
        self.config_path.write_text(config_text(home, self.drop, extra_config))
        self.process: subprocess.Popen | None = None
        self.log_path = home / "daemon.log"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "modeld", "--config", str(self.config_path), *args]

    def start(self, wait: bool = True, env: dict[str, str] | None = None) -> DaemonProcess:
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                self.command("run"),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                env=env,
            )
        if wait:
            wait_until(lambda: self.status(allow_down=True), what="the daemon to answer")
        return self

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=BOUND)
        if check and result.returncode != 0:
            raise AssertionError(f"modeld {args} -> {result.returncode}: {result.stderr}")
        return result

    def status(self, allow_down: bool = False) -> dict | None:
        result = self.cli("status", "--json", check=False)
        if result.returncode == 3 and allow_down:
            return None
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def models(self) -> list[dict]:
        return json.loads(self.cli("list", "--json").stdout)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=BOUND)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def daemon_factory(home: Path) -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def make(extra_config: str = "", start: bool = True) -> DaemonProcess:
        daemon = DaemonProcess(home, extra_config)
        daemon.drop.mkdir(exist_ok=True)
        if start:
            daemon.start()
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


def config_text(home: Path, drop: Path, extra: str = "") -> str:
    return (
        f'[library]\nroot = "{home / "library"}"\n\n'
        f'[daemon]\nstate_dir = "{home / "state"}"\nsettle_seconds = 1.0\nrescan_minutes = 60\n\n'
        f'[[watch]]\npath = "{drop}"\nmode = "move"\n\n'
        f"[hub]\nenabled = false\n\n[tray]\nenabled = false\n{extra}"
    )
