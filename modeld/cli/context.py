"""What every command handler gets: the config, the index, output helpers."""

from __future__ import annotations

import json
import sys
from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NO_DAEMON = 3


class CliError(Exception):
    """Ends the command with a one-line message on stderr and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE):
        super().__init__(message)
        self.code = code


class Context:
    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self._config = None
        self._db = None

    @property
    def config(self):
        """The loaded `modeld.config.Config` (loaded on first use)."""
        if self._config is None:
            from modeld.config import ConfigError, load_config

            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                raise CliError(str(exc)) from exc
        return self._config

    def open_index(self):
        """Open the index database (creating library and index if needed)."""
        if self._db is None:
            from modeld.library.db import open_index
            from modeld.library.layout import LibraryOffline, ensure_library

            try:
                ensure_library(self.config.library_root, self.config.daemon.state_dir)
                self._db = open_index(self.config.index_path)
            except LibraryOffline as exc:
                raise CliError(str(exc)) from exc
            except OSError as exc:
                raise CliError(
                    f"cannot open the library at {self.config.library_root}: {exc}"
                ) from exc
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout.

    ASCII-escaped: a file name that is not valid UTF-8 reaches us with
    surrogate escapes, which only \\u escapes carry through as valid JSON.
    """
    json.dump(document, sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")
    sys.stdout.flush()


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")
