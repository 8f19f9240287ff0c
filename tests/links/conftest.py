"""Fixtures for link tests: a library, a ComfyUI tree, a config tying them together."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeld.config import Config, load_config
from tests.conftest import write_config
from tests.links.library import comfyui_tree


def app_config(home: Path, apps: str, name: str = "config.toml") -> Config:
    """A config under `home` whose [[app]] tables are `apps`."""
    path = write_config(home, apps)
    if name != "config.toml":
        path = path.rename(home / name)
    return load_config(path)


def comfy_app(path: Path, name: str = "comfyui", **options: str) -> str:
    extra = "".join(f'{key} = "{value}"\n' for key, value in options.items())
    return f'\n[[app]]\nname = "{name}"\nkind = "comfyui"\npath = "{path}"\n{extra}'


@pytest.fixture
def comfy(home: Path) -> Path:
    return comfyui_tree(home / "ComfyUI")


@pytest.fixture
def lconfig(home: Path, comfy: Path, index) -> Config:
    """Library + ComfyUI + an open index (the `index` fixture opens the default config's db)."""
    return app_config(home, comfy_app(comfy))
