"""One TOML table's values, typed and checked, each error naming its key and line."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from modeld.config.errors import ConfigError
from modeld.config.location import where


class Table:
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
        return where(self.source, self.lines, self.name, key)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.data))

    def only(self, *allowed: str) -> None:
        for key in self.data:
            if key not in allowed:
                raise ConfigError(
                    f"{self.key(key)}: unknown key (expected one of: {', '.join(allowed)})"
                )

    def table(self, key: str) -> Table:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.key(key)}: expected a table")
        name = f"{self.name}.{key}" if self.name else key
        return Table(value, name, self.base, self.source, self.lines)

    def array_of_tables(self, key: str) -> list[Table]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise ConfigError(f"{self.key(key)}: expected [[{key}]] tables")
        return [
            Table(v, f"{key}[{i}]", self.base, self.source, self.lines) for i, v in enumerate(value)
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
        if not isinstance(value, str) or value not in choices:
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
