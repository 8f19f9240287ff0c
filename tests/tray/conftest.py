"""Fixtures for the tray tests: a daemon's world, and a real X server with a system tray."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tray.world import World
from tests.tray.xserver import bare_display, xserver  # noqa: F401  (fixtures)


@pytest.fixture
def world() -> Iterator[World]:
    root = Path(tempfile.mkdtemp(prefix="mdt-", dir="/tmp"))  # unix socket paths are short
    made = World(root)
    yield made
    if made.daemon is not None and made.daemon.poll() is None:
        made.daemon.kill()
        made.daemon.wait()
    subprocess.run(["rm", "-rf", str(root)], check=False)
