"""What a config is: frozen dataclasses with their defaults, and the values allowed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_NAME = "modeld"

WATCH_MODES = ("move", "copy")
LINK_MODES = ("auto", "symlink", "hardlink")
CONFLICT_POLICIES = ("suffix", "skip")
DEVICE_KINDS = ("ssd", "hdd", "network", "unknown")
NOTIFY_KINDS = ("imported", "quarantined", "links", "library")


@dataclass(frozen=True)
class WatchConfig:
    path: Path
    mode: str = "move"
    recursive: bool = True


@dataclass(frozen=True)
class AppConfig:
    name: str
    kind: str
    path: Path
    link: str = "auto"
    on_conflict: str = "suffix"
    version: str | None = None
    # model_type or family -> folder under the app's models/ (for discovered folders)
    folders: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DaemonConfig:
    state_dir: Path
    log_file: Path  # rotated; journald or a terminal get the same lines on stderr
    rescan_minutes: float = 15.0
    settle_seconds: float = 2.0
    truncated_grace_minutes: float = 30.0
    verify_hours: float = 24.0 * 7


@dataclass(frozen=True)
class QueueConfig:
    # readers per device kind; a device path can be pinned to a kind
    readers: Mapping[str, int] = field(
        default_factory=lambda: {"ssd": 2, "hdd": 1, "network": 1, "unknown": 1}
    )
    device_kinds: Mapping[str, str] = field(default_factory=dict)
    max_pending: int = 10_000


@dataclass(frozen=True)
class LinksConfig:
    repair_minutes: float = 30.0


@dataclass(frozen=True)
class HubConfig:
    enabled: bool = True
    previews: bool = True  # fetch a confirmed repo's preview image for models without one
    calls_per_minute: int = 60
    cache_ttl_hours: float = 24.0 * 7
    retry_minutes: float = 15.0


@dataclass(frozen=True)
class TrayConfig:
    enabled: bool = True
    notify: Mapping[str, bool] = field(default_factory=lambda: dict.fromkeys(NOTIFY_KINDS, True))


@dataclass(frozen=True)
class Config:
    source: Path | None
    library_root: Path
    index_path: Path
    quarantine_dir: Path
    daemon: DaemonConfig
    queues: QueueConfig = field(default_factory=QueueConfig)
    watches: tuple[WatchConfig, ...] = ()
    apps: tuple[AppConfig, ...] = ()
    links: LinksConfig = field(default_factory=LinksConfig)
    hub: HubConfig = field(default_factory=HubConfig)
    tray: TrayConfig = field(default_factory=TrayConfig)

    @property
    def socket_path(self) -> Path:
        return self.daemon.state_dir / "modeld.sock"

    @property
    def journal_path(self) -> Path:
        return self.daemon.state_dir / "journal"

    @property
    def pid_path(self) -> Path:
        return self.daemon.state_dir / "modeld.pid"


def config_as_dict(config: Config) -> dict[str, Any]:
    """The effective config as plain data, for `modeld config show`."""

    def fields_of(value: Any) -> dict[str, Any]:
        return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            return fields_of(value)
        return value

    return fields_of(config)
