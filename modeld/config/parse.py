"""A parsed TOML document validated into a `Config`: unknown keys and bad values refused."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from modeld.config.errors import ConfigError
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
)
from modeld.config.table import Table


def parse_config(data: Mapping[str, Any], source: Path | None, text: str = "") -> Config:
    """Validate a parsed TOML document into a `Config` (pure, apart from env/home expansion)."""
    base = source.parent if source else Path.cwd()  # `source` is absolute
    doc = Table(data, "", base, source, text.splitlines())
    doc.only("library", "daemon", "watch", "app", "hub", "tray", "queues", "links")

    library = doc.table("library")
    library.only("root", "index", "quarantine")
    root = library.path("root") or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / (
        "library"
    )
    index = library.path("index") or root / ".modeld" / "index.db"
    quarantine = library.path("quarantine") or root / ".modeld" / "quarantine"

    daemon = doc.table("daemon")
    daemon.only(
        "state_dir",
        "log_file",
        "rescan_minutes",
        "settle_seconds",
        "truncated_grace_minutes",
        "verify_hours",
    )
    state_dir = daemon.path("state_dir") or Path(
        platformdirs.user_state_dir(APP_NAME, appauthor=False)
    )
    daemon_config = DaemonConfig(
        state_dir=state_dir,
        log_file=daemon.path("log_file") or state_dir / "modeld.log",
        rescan_minutes=daemon.number("rescan_minutes", 15.0, minimum=0.05),
        settle_seconds=daemon.number("settle_seconds", 2.0, minimum=0.0),
        truncated_grace_minutes=daemon.number("truncated_grace_minutes", 30.0, minimum=0.0),
        verify_hours=daemon.number("verify_hours", 24.0 * 7, minimum=0.01),
    )

    queues = doc.table("queues")
    queues.only("readers", "devices", "max_pending")
    readers = dict(QueueConfig().readers)
    reader_table = queues.table("readers")
    reader_table.only(*DEVICE_KINDS)
    for kind in DEVICE_KINDS:
        readers[kind] = int(reader_table.number(kind, readers[kind], minimum=1, integer=True))
    devices_table = queues.table("devices")
    device_kinds = {name: devices_table.choice(name, None, DEVICE_KINDS) for name in devices_table}
    queue_config = QueueConfig(
        readers=readers,
        device_kinds=device_kinds,
        max_pending=int(queues.number("max_pending", 10_000, minimum=1, integer=True)),
    )

    watches = []
    for item in doc.array_of_tables("watch"):
        item.only("path", "mode", "recursive")
        watches.append(
            WatchConfig(
                path=item.required_path("path"),
                mode=item.choice("mode", "move", WATCH_MODES),
                recursive=item.boolean("recursive", True),
            )
        )

    apps: list[AppConfig] = []
    for item in doc.array_of_tables("app"):
        item.only("name", "kind", "path", "link", "on_conflict", "version", "folders")
        kind = item.string("kind", "comfyui") or "comfyui"
        name = item.string("name", None) or kind  # one app of a kind needs no label
        if any(app.name == name for app in apps):
            raise ConfigError(
                f"{item.key('name')}: duplicate app name {name!r} (give each [[app]] its own name)"
            )
        folders = item.table("folders")
        apps.append(
            AppConfig(
                name=name,
                kind=kind,
                path=item.required_path("path"),
                link=item.choice("link", "auto", LINK_MODES),
                on_conflict=item.choice("on_conflict", "suffix", CONFLICT_POLICIES),
                version=item.string("version", None),
                folders={k: folders.string(k, None) or "" for k in folders},
            )
        )

    links = doc.table("links")
    links.only("repair_minutes")
    hub = doc.table("hub")
    hub.only("enabled", "previews", "calls_per_minute", "cache_ttl_hours", "retry_minutes")
    tray = doc.table("tray")
    tray.only("enabled", "notify")
    notify_table = tray.table("notify")
    notify_table.only(*NOTIFY_KINDS)

    return Config(
        source=source,
        library_root=root,
        index_path=index,
        quarantine_dir=quarantine,
        daemon=daemon_config,
        queues=queue_config,
        watches=tuple(watches),
        apps=tuple(apps),
        links=LinksConfig(repair_minutes=links.number("repair_minutes", 30.0, minimum=0.05)),
        hub=HubConfig(
            enabled=hub.boolean("enabled", True),
            previews=hub.boolean("previews", True),
            calls_per_minute=int(hub.number("calls_per_minute", 60, minimum=1, integer=True)),
            cache_ttl_hours=hub.number("cache_ttl_hours", 24.0 * 7, minimum=0.0),
            retry_minutes=hub.number("retry_minutes", 15.0, minimum=0.05),
        ),
        tray=TrayConfig(
            enabled=tray.boolean("enabled", True),
            notify={kind: notify_table.boolean(kind, True) for kind in NOTIFY_KINDS},
        ),
    )
