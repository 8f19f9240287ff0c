"""The SQLite index (peewee): models, their files, FTS5 search and small state.

The index is a cache of the library's metadata.json files and can always be
rebuilt from them (`deepscan`). Other components (links, hub, scheduler) add
their own tables by subclassing `IndexModel`; `open_index` creates every
table registered through `register_tables`.

Paths and file names go in through `to_db` (a `FsTextField` does it
itself): a name that is not UTF-8 is stored as its exact bytes (see rows.py,
which also reads the index without the ORM).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from peewee import (
    AutoField,
    BigIntegerField,
    CharField,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    Model,
    SqliteDatabase,
    TextField,
)

from modeld.library.rows import from_db, to_db

database = DatabaseProxy()

SCHEMA_VERSION = 1


class FsTextField(TextField):
    """A TextField for paths and file names: any name the OS allows."""

    def db_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return to_db(value)
        return super().db_value(value)  # type: ignore[no-untyped-call]  # peewee's stubs leave it unannotated

    def python_value(self, value: Any) -> Any:
        if isinstance(value, bytes):
            return from_db(value)
        return super().python_value(value)  # type: ignore[no-untyped-call]  # as db_value


class IndexModel(Model):
    class Meta:
        database = database


class ModelRecord(IndexModel):
    """One model: a folder in the library with its metadata.json."""

    pk = AutoField()
    model_id = CharField(unique=True)
    name = TextField()
    model_type = CharField(index=True)
    family = CharField(index=True)
    format = CharField()
    precision = CharField(null=True)
    quant = CharField(null=True)
    size = BigIntegerField()
    rel_path = FsTextField(unique=True)  # the model folder, relative to the library root
    sha256 = CharField(index=True)
    blake3 = CharField(index=True)
    tags = TextField(default="[]")  # JSON list
    description = TextField(default="")
    hub = TextField(null=True)  # JSON object
    imported_at = FloatField()  # unix time

    files: Iterable[FileRecord]  # FileRecord's backref: a query over this model's files

    class Meta:
        table_name = "models"

    @property
    def tag_list(self) -> list[str]:
        tags: list[str] = json.loads(self.tags)
        return tags


class FileRecord(IndexModel):
    """One file of a model; every file's BLAKE3 is a dedupe key."""

    pk = AutoField()
    model = ForeignKeyField(ModelRecord, backref="files", on_delete="CASCADE")
    rel_path = FsTextField()  # relative to the model folder
    size = BigIntegerField()
    sha256 = CharField()
    blake3 = CharField(index=True)
    original_name = FsTextField()

    class Meta:
        table_name = "files"


# Full-text index, one row per model, rowid = models.pk. Written and queried in
# plain SQL (index.py, search.py), so peewee's FTS extension is never loaded.
# The trigram tokenizer indexes every 3-character window, so any substring of
# 3+ characters matches: `instruct`, `q4_k_m`, `sdxl` and `stru` all find
# "Llama-3-8B-Instruct.Q4_K_M.gguf", regardless of the `-_.` separators that
# split or glue tokens under unicode61 (see bench/search.py for the measured
# comparison). The statement is the one peewee's FTS5Model generated before.
MODEL_SEARCH_TABLE = (
    'CREATE VIRTUAL TABLE IF NOT EXISTS "model_search" USING fts5 '
    '("name", "model_type", "family", "tags", "files", "description", tokenize="trigram")'
)


class StateEntry(IndexModel):
    """Small persistent key/value state: scheduler last runs, known paths."""

    key = CharField(primary_key=True)
    value = TextField()

    class Meta:
        table_name = "state"


_TABLES: list[type[Model]] = [ModelRecord, FileRecord, StateEntry]


def register_tables(*models: type[Model]) -> None:
    """Components with their own tables register them here, at import time.

    `open_index` creates every registered table; a component imported after
    the index was opened (the CLI and daemon import them lazily) gets its
    tables created right away.
    """
    for model in models:
        if model not in _TABLES:
            _TABLES.append(model)
    if database.obj is not None and not database.is_closed():
        database.create_tables(list(models), safe=True)


PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 30_000,
    "cache_size": -64_000,
    "temp_store": "memory",
}


def open_index(path: Path) -> SqliteDatabase:
    """Open (creating if needed) the index database and bind every table to it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(
        str(path),
        pragmas=PRAGMAS,
        timeout=30,
        lock_type="IMMEDIATE",  # take the write lock up front: no SQLITE_BUSY on upgrade
        check_same_thread=False,
    )
    database.initialize(db)
    db.connect(reuse_if_open=True)
    with db.atomic():
        db.create_tables(_TABLES, safe=True)
        db.execute_sql(MODEL_SEARCH_TABLE)
        db.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return db


def get_state(key: str, default: str | None = None) -> str | None:
    entry = StateEntry.get_or_none(StateEntry.key == key)
    return entry.value if entry else default


def set_state(key: str, value: str) -> None:
    StateEntry.insert(key=key, value=value).on_conflict_replace().execute()
