"""Configuration: one TOML file, validated into frozen dataclasses.

Every place modeld writes to is settable, so a test or a second instance can
live inside one temporary directory. A missing default file means built-in
defaults; an invalid value is a `ConfigError` naming the key (and the line,
where TOML told us).
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "modeld"
CONFIG_ENV = "MODELD_CONFIG"

WATCH_MODES = ("move", "copy")
LINK_MODES = ("auto", "symlink", "hardlink")
CONFLICT_POLICIES = ("suffix", "skip")
DEVICE_KINDS = ("ssd", "hdd", "network", "unknown")
NOTIFY_KINDS = ("imported", "quarantined", "links", "library")


class ConfigError(Exception):
    """An invalid config file or value; the message is one line naming the key."""


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


def parse_config(data: Mapping[str, Any], source: Path | None, text: str = "") -> Config:
    """Validate a parsed TOML document into a `Config` (pure, apart from env/home expansion)."""
    base = source.parent if source else Path.cwd()  # `source` is absolute
    doc = _Table(data, "", base, source, text.splitlines())
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

    apps = []
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


def config_as_dict(config: Config) -> dict[str, Any]:
    """The effective config as plain data, for `modeld config show`."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
        return value

    return plain(config)


_HEADER = re.compile(r"^\s*\[\[?([^\]]+)\]\]?")


def locate(config: Config, table: str, key: str) -> str:
    """`<file>:line N: table.key`, for a value found wrong after loading
    (by a component that owns the list of what is valid)."""
    lines: list[str] = []
    if config.source is not None:
        # unreadable now: the key is still named, only without its line
        with contextlib.suppress(OSError, UnicodeDecodeError):
            lines = config.source.read_text(encoding="utf-8").splitlines()
    return _where(config.source, lines, table, key)


def _where(source: Path | None, lines: Sequence[str], table: str, key: str) -> str:
    """`<file>:line N: table.key` (`?` for a line not found), or the dotted key alone
    when there is no file."""
    dotted = f"{table}.{key}" if table else key
    if source is None:
        return dotted
    number = key_line(lines, table, key)
    return f"{source}:{f'line {number}' if number else '?'}: {dotted}"


def key_line(lines: Sequence[str], table: str, key: str) -> int | None:
    """The line a user should look at for `key` of `table` ("" for the top level,
    "hub", "queues.readers", "app[1]", "app[1].folders"): the key's own line, else
    the table's header (a required key that is missing), else None.

    tomllib keeps no positions, so this re-reads the text: good enough for the
    plain layouts people write, and a wrong guess only costs a line number.
    """
    wanted = re.sub(r"\[(\d+)\]", "", table)
    occurrence = int(match.group(1)) if (match := re.search(r"\[(\d+)\]", table)) else 0
    assignment = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    seen: dict[str, int] = {}
    inside, header_line = not table, None
    for number, line in enumerate(lines, start=1):
        if header := _HEADER.match(line):
            name = re.sub(r"[\s\"']", "", header.group(1))
            if line.lstrip().startswith("[["):
                seen[name] = seen.get(name, -1) + 1
            # a sub-table ([app.folders]) belongs to the latest [[app]]
            inside = name == wanted and seen.get(name.split(".")[0], 0) == occurrence
            if inside:
                header_line = number
        elif inside and assignment.match(line):
            return number
    return header_line


class _Table:
    """A TOML table with a dotted name, so every error can say which key is wrong."""

    def __init__(
        self,
        data: Mapping[str, Any],
        name: str,
        base: Path,
        source: Path | None,
        lines: list[str],
    ):
        self.data = data
        self.name = name
        self.base = base
        self.source = source
        self.lines = lines

    def key(self, key: str) -> str:
        return _where(self.source, self.lines, self.name, key)

    def __iter__(self):
        return iter(list(self.data))

    def only(self, *allowed: str) -> None:
        for key in self.data:
            if key not in allowed:
                raise ConfigError(
                    f"{self.key(key)}: unknown key (expected one of: {', '.join(allowed)})"
                )

    def table(self, key: str) -> _Table:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.key(key)}: expected a table")
        name = f"{self.name}.{key}" if self.name else key
        return _Table(value, name, self.base, self.source, self.lines)

    def array_of_tables(self, key: str) -> list[_Table]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise ConfigError(f"{self.key(key)}: expected [[{key}]] tables")
        return [
            _Table(v, f"{key}[{i}]", self.base, self.source, self.lines)
            for i, v in enumerate(value)
        ]

    def string(self, key: str, default: str | None) -> str | None:
        value = self.data.get(key, default)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{self.key(key)}: expected a string, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(key)}: expected true or false, got {value!r}")
        return value

    def number(self, key: str, default: float, *, minimum: float, integer: bool = False) -> float:
        value = self.data.get(key, default)
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            expected = "an integer" if integer else "a number"
            raise ConfigError(f"{self.key(key)}: expected {expected}, got {value!r}")
        if value < minimum:
            raise ConfigError(f"{self.key(key)}: must be at least {minimum}, got {value!r}")
        return value

    def choice(self, key: str, default: str | None, choices: tuple[str, ...]) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            raise ConfigError(
                f"{self.key(key)}: expected one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def path(self, key: str) -> Path | None:
        value = self.string(key, None)
        if value is None:
            return None
        if not value.strip():
            raise ConfigError(f"{self.key(key)}: empty path")
        expanded = Path(os.path.expanduser(os.path.expandvars(value)))
        return expanded if expanded.is_absolute() else self.base / expanded

    def required_path(self, key: str) -> Path:
        path = self.path(key)
        if path is None:
            raise ConfigError(f"{self.key(key)}: required")
        return path
