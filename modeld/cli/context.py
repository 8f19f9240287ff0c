"""What every command handler gets: the config, the index, output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

# the exit codes live with CliError; commands import them from here
from modeld.cli.errors import EXIT_FAILURE as EXIT_FAILURE
from modeld.cli.errors import EXIT_NO_DAEMON as EXIT_NO_DAEMON
from modeld.cli.errors import EXIT_OK as EXIT_OK
from modeld.cli.errors import EXIT_USAGE as EXIT_USAGE
from modeld.cli.errors import CliError

if TYPE_CHECKING:
    import sqlite3

    from peewee import SqliteDatabase

    from modeld.config import Config
    from modeld.library.db import ModelRecord

Handler = Callable[[argparse.Namespace, "Context"], int]
# argparse's sub-command registry; generic only in typeshed (not at run time), hence a string
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class Context:
    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self._config: Config | None = None
        self._db: SqliteDatabase | None = None
        self._reader: sqlite3.Connection | None = None

    @property
    def config(self) -> Config:
        """The loaded `modeld.config.Config` (loaded on first use)."""
        if self._config is None:
            from modeld.config import ConfigError, load_config

            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                raise CliError(str(exc)) from exc
        return self._config

    def open_index(self) -> SqliteDatabase:
        """Open the index database (creating library and index if needed)."""
        if self._db is None:
            from modeld.library.db import open_index

            self._ensure_library()
            try:
                self._db = open_index(self.config.index_path)
            except OSError as exc:
                raise CliError(
                    f"cannot open the library at {self.config.library_root}: {exc}"
                ) from exc
        return self._db

    def read_index(self) -> sqlite3.Connection:
        """The index on a plain sqlite3 connection, to read it without loading
        the ORM (a new library gets its index through `open_index` first)."""
        if self._reader is None:
            # lazy: CLI start-up (only the commands that read the index need sqlite3)
            import sqlite3

            if self.config.index_path.exists():
                self._ensure_library()
            else:
                self.open_index()
            uri = f"{self.config.index_path.as_uri()}?mode=rw"  # never create an empty one
            self._reader = sqlite3.connect(uri, uri=True, timeout=30)
        return self._reader

    def _ensure_library(self) -> None:
        """The library is there (created if new), or a one-line error."""
        from modeld.library.errors import LibraryOffline
        from modeld.library.layout import ensure_library

        try:
            ensure_library(self.config.library_root, self.config.daemon.state_dir)
        except LibraryOffline as exc:
            raise CliError(str(exc)) from exc
        except OSError as exc:
            raise CliError(f"cannot open the library at {self.config.library_root}: {exc}") from exc

    def require_model(self, text: str) -> ModelRecord:
        """The model a user named (id, id prefix or exact name), or a one-line error."""
        from modeld.library.errors import AmbiguousModel
        from modeld.library.index import find_model

        self.open_index()
        try:
            record = find_model(text)
        except AmbiguousModel as exc:
            raise CliError(f"{exc}; give more of the id") from exc
        if record is None:
            raise CliError(f"no model with id or name {text!r} (see `modeld list`)")
        return record

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._db is not None:
            self._db.close()
            self._db = None


def print_json(document: object) -> None:
    """Exactly one JSON document on stdout.

    ASCII-escaped: a file name that is not valid UTF-8 reaches us with
    surrogate escapes, which only \\u escapes carry through as valid JSON.
    """
    json.dump(document, sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")
    sys.stdout.flush()


def add_command(
    subparsers: Subparsers,
    name: str,
    handler: Handler,
    help: str,
    *,
    json: bool = True,
    **options: Any,
) -> argparse.ArgumentParser:
    """One command: its parser, `--json` (every data command takes it), its handler."""
    parser = subparsers.add_parser(name, help=help, **options)
    if json:
        parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=handler)
    return parser


def add_model_id(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """The MODEL_ID positional that `Context.require_model` resolves."""
    parser.add_argument(
        "model_id",
        nargs="?" if optional else None,
        metavar="MODEL_ID",
        help="an id, an id prefix, or the exact name",
    )


def add_group(subparsers: Subparsers, name: str, help: str) -> Subparsers:
    """A command whose actions are sub-commands (`modeld links check`)."""
    actions = subparsers.add_parser(name, help=help).add_subparsers(dest=f"{name}_action")
    actions.metavar = "ACTION"
    actions.required = True
    return actions
