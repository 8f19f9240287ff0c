"""Shared fixtures: a config living entirely inside one temp dir, an open index, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from modeld.config import Config, load_config

# platformdirs warns (and pytest -W error would fail) without a runtime dir
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))
# tests never reach the real Hub
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# CI replays the same fuzz inputs on every run, so a landing never hinges on a
# lucky draw; a developer's run explores new ones (and a find becomes a test).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def write_config(folder: Path, extra: str = "", *, hub_enabled: bool = False) -> Path:
    """A config whose every writable place is under `folder` (short paths: unix sockets).

    `extra` continues the [hub] section (or starts sections of its own)."""
    path = folder / "config.toml"
    path.write_text(
        f"""
[library]
root = "{folder / "library"}"

[daemon]
state_dir = "{folder / "state"}"

[hub]
enabled = {"true" if hub_enabled else "false"}
{extra}
"""
    )
    return path


@pytest.fixture
def home() -> Iterator[Path]:
    """A short temp folder (unix socket paths are limited to ~100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="md-", dir="/tmp"))
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=False)


@pytest.fixture
def config_path(home: Path) -> Path:
    return write_config(home)


@pytest.fixture
def config(config_path: Path) -> Config:
    return load_config(config_path)


@pytest.fixture
def index(config: Config):
    from modeld.library.db import open_index
    from modeld.library.layout import ensure_library

    ensure_library(config.library_root)
    db = open_index(config.index_path)
    yield db
    db.close()


@pytest.fixture
def drop(home: Path) -> Path:
    folder = home / "drop"
    folder.mkdir()
    return folder


class Cli:
    """Runs the real `modeld` entry point in a subprocess."""

    def __init__(self, config_path: Path):
        self.config_path = config_path

    def run(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "modeld", "--config", str(self.config_path), *args],
            capture_output=True,
            text=True,
            timeout=120,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"modeld {' '.join(args)} exited {result.returncode}\n{result.stderr}"
            )
        return result

    def json(self, *args: str) -> object:
        result = self.run(*args, "--json")
        return json.loads(result.stdout)


@pytest.fixture
def cli(config_path: Path) -> Cli:
    return Cli(config_path)
