"""Configuration: one TOML file, validated into frozen dataclasses.

Every place modeld writes to is settable, so a test or a second instance can
live inside one temporary directory. A missing default file means built-in
defaults; an invalid value is a `ConfigError` naming the key (and the line,
where TOML told us).

The package, by concept: schema (the dataclasses, their defaults and the
allowed values), load (which file, reading it), parse (validating a parsed
document), table (one TOML table's typed getters, paths expanded), location
(the line a key sits on, for messages), errors. Everything is imported from
here.
"""

from modeld.config.errors import ConfigError
from modeld.config.load import CONFIG_ENV, default_config_path, load_config, resolve_config_path
from modeld.config.location import key_line, locate
from modeld.config.parse import parse_config
from modeld.config.schema import (
    APP_NAME,
    CONFLICT_POLICIES,
    DEVICE_KINDS,
    LINK_MODES,
    NOTIFY_KINDS,
    WATCH_MODES,
    AppConfig,
    Config,
    DaemonConfig,
    HubConfig,
    LinksConfig,
    QueueConfig,
    TrayConfig,
    WatchConfig,
    config_as_dict,
)

__all__ = [
    "APP_NAME",
    "CONFIG_ENV",
    "CONFLICT_POLICIES",
    "DEVICE_KINDS",
    "LINK_MODES",
    "NOTIFY_KINDS",
    "WATCH_MODES",
    "AppConfig",
    "Config",
    "ConfigError",
    "DaemonConfig",
    "HubConfig",
    "LinksConfig",
    "QueueConfig",
    "TrayConfig",
    "WatchConfig",
    "config_as_dict",
    "default_config_path",
    "key_line",
    "load_config",
    "locate",
    "parse_config",
    "resolve_config_path",
]
