"""Fixtures for the hub tests: a fake Hub on 127.0.0.1 and an environment pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modeld.config import Config, load_config
from modeld.library.db import open_index
from modeld.library.layout import ensure_library
from tests.conftest import write_config
from tests.hub.fakehub import FakeHub
from tests.hub.wiring import Setup


class ManualClock:
    """A clock that only moves when slept on or advanced; records every sleep."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.time += seconds


@pytest.fixture
def fakehub() -> Iterator[FakeHub]:
    with FakeHub() as hub:
        yield hub


@pytest.fixture
def online(fakehub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeHub:
    """Network allowed, HF_ENDPOINT at the fake Hub, no token from the environment or disk.

    The suite's conftest sets HF_HUB_OFFLINE=1 so nothing reaches the real Hub;
    huggingface_hub copied that into `constants` at import, so both are undone.
    """
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    # huggingface_hub's own side calls (agent-harness telemetry) go to its import-time
    # ENDPOINT: point that at the fake too, and switch them off as modeld does
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", fakehub.url)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setenv("HF_ENDPOINT", fakehub.url)
    return fakehub


def write_hub_config(folder: Path, *, enabled: bool = True, extra: str = "") -> Path:
    """The suite's config with lookups switched on (`extra` continues [hub])."""
    return write_config(folder, extra, hub_enabled=enabled)


@pytest.fixture
def hub_config(home: Path) -> Config:
    return load_config(write_hub_config(home))


@pytest.fixture
def library(hub_config: Config) -> Iterator[Config]:
    ensure_library(hub_config.library_root)
    db = open_index(hub_config.index_path)
    yield hub_config
    db.close()


@pytest.fixture
def setup(library: Config) -> Iterator[Setup]:
    wired = Setup(library)
    yield wired
    wired.enricher.stop()
