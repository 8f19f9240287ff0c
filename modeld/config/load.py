"""Which config file to read, and reading it: named files must exist, the default may not."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs

from modeld.config.errors import ConfigError
from modeld.config.parse import parse_config
from modeld.config.schema import APP_NAME, Config

CONFIG_ENV = "MODELD_CONFIG"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def resolve_config_path(cli_path: str | os.PathLike[str] | None) -> tuple[Path, bool]:
    """The file to read, and whether the user named it (a named file must exist)."""
    if cli_path:
        return Path(cli_path).expanduser().absolute(), True
    if env := os.environ.get(CONFIG_ENV):
        return Path(env).expanduser().absolute(), True
    return default_config_path(), False


def load_config(cli_path: str | os.PathLike[str] | None = None) -> Config:
    path, explicit = resolve_config_path(cli_path)
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file not found: {path}")
        return parse_config({}, source=None)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {path} is not UTF-8 text") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    return parse_config(data, source=path, text=text)
