"""Keep the index in step with metadata.json: upsert, remove, look up.

Every write goes through here so that the model row, its file rows and its
FTS row always change together, in one IMMEDIATE transaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import fn

from modeld.library.db import FileRecord, ModelRecord, database
from modeld.library.errors import AmbiguousModel
from modeld.library.rows import from_db, to_db
from modeld.library.rows import model_objects as row_objects
from modeld.vocab.naming import display_name

if TYPE_CHECKING:  # an annotation only: search and list need not load metadata.json code
    from modeld.library.metadata import ModelMeta


def _rel_folder(root: Path, folder: Path) -> str:
    return folder.relative_to(root).as_posix()


_MODEL_COLUMNS = (
    "model_id, name, model_type, family, format, precision, quant, size, rel_path, "
    "sha256, blake3, tags, description, hub, imported_at"
)


def upsert_model(root: Path, folder: Path, meta: ModelMeta) -> int:
    """Index (or re-index) the model in `folder`, keyed by its id. Idempotent.

    Plain SQL rather than the ORM: a deep scan calls this 100,000 times and
    query building dominated the cost. Returns the row's primary key.
    """
    with database.atomic():
        return _upsert(root, folder, meta)


def upsert_models(root: Path, models: list[tuple[Path, ModelMeta]]) -> None:
    """`upsert_model` for each (folder, meta), all in one transaction (a group commit)."""
    with database.atomic():
        for folder, meta in models:
            _upsert(root, folder, meta)


def _upsert(root: Path, folder: Path, meta: ModelMeta) -> int:
    rel = to_db(_rel_folder(root, folder))
    values = (
        meta.id,
        display_name(meta.name),
        meta.model_type,
        meta.family,
        meta.format,
        meta.precision,
        meta.quant,
        meta.size,
        rel,
        meta.sha256,
        meta.blake3,
        json.dumps(meta.tags),
        meta.description,
        json.dumps(meta.hub) if meta.hub is not None else None,
        meta.imported_at,
    )
    sql = database.execute_sql
    found = sql("SELECT pk FROM models WHERE model_id = ?", (meta.id,)).fetchone()
    if found is None:
        # a stale row for this folder (e.g. an edited metadata.json with a new id)
        stale = "SELECT pk FROM models WHERE rel_path = ?"
        sql(f"DELETE FROM model_search WHERE rowid IN ({stale})", (rel,))
        sql("DELETE FROM models WHERE rel_path = ?", (rel,))
        placeholders = ", ".join("?" * len(values))
        cursor = sql(f"INSERT INTO models ({_MODEL_COLUMNS}) VALUES ({placeholders})", values)
        pk = int(cursor.lastrowid)
    else:
        pk = int(found[0])
        assignments = ", ".join(f"{column} = ?" for column in _MODEL_COLUMNS.split(", "))
        sql(f"UPDATE models SET {assignments} WHERE pk = ?", (*values, pk))
        sql("DELETE FROM files WHERE model_id = ?", (pk,))
        sql("DELETE FROM model_search WHERE rowid = ?", (pk,))
    database.cursor().executemany(
        "INSERT INTO files (model_id, rel_path, size, sha256, blake3, original_name) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (pk, to_db(f.name), f.size, f.sha256, f.blake3, to_db(f.original_name))
            for f in meta.files
        ],
    )
    names = dict.fromkeys(
        display_name(name)
        for name in [f.original_name for f in meta.files] + [f.name for f in meta.files]
    )
    tags = [*meta.tags, *_hub_terms(meta.hub)]
    sql(
        "INSERT INTO model_search (rowid, name, model_type, family, tags, files, description) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            pk,
            display_name(meta.name),
            meta.model_type,
            meta.family,
            " ".join(tags),
            " ".join(names),
            meta.description,
        ),
    )
    return pk


def _hub_terms(hub: dict[str, Any] | None) -> list[str]:
    """A confirmed Hub match makes its repo, author and tags searchable too."""
    if not hub:
        return []
    terms = [hub.get("repo_id"), hub.get("author"), hub.get("pipeline_tag")]
    terms += list(hub.get("tags") or [])[:32]
    return [str(t) for t in terms if t]


def remove_model(model_id: str) -> None:
    with database.atomic():
        record = ModelRecord.get_or_none(ModelRecord.model_id == model_id)
        if record is not None:
            database.execute_sql("DELETE FROM model_search WHERE rowid = ?", (record.pk,))
            record.delete_instance()  # files cascade


def model_indexed(model_id: str) -> bool:
    """Is a model with this id indexed? (plain SQL: asked once per import)"""
    found = database.execute_sql("SELECT 1 FROM models WHERE model_id = ?", (model_id,))
    return found.fetchone() is not None


def model_id_by_content(blake3_hex: str) -> str | None:
    """The id of the model holding a file with this BLAKE3, if any (the dedupe key)."""
    row = _first_with_content("m.model_id", blake3_hex)
    return row[0] if row else None


def find_by_content(blake3_hex: str) -> ModelRecord | None:
    """The model holding a file with this BLAKE3, if any (the dedupe key)."""
    file = (
        FileRecord.select(FileRecord, ModelRecord)
        .join(ModelRecord)
        .where(FileRecord.blake3 == blake3_hex)
        .first()
    )
    return file.model if file else None


def find_file(blake3_hex: str) -> str | None:
    """A library file with this BLAKE3, relative to the library root."""
    row = _first_with_content("m.rel_path, f.rel_path", blake3_hex)
    return f"{from_db(row[0])}/{from_db(row[1])}" if row else None


def _first_with_content(columns: str, blake3_hex: str) -> tuple[Any, ...] | None:
    """`columns` (of files f and models m) of the first file with this BLAKE3, in plain SQL."""
    row: tuple[Any, ...] | None = database.execute_sql(
        f"SELECT {columns} FROM files f JOIN models m ON m.pk = f.model_id "
        "WHERE f.blake3 = ? LIMIT 1",
        (blake3_hex,),
    ).fetchone()
    return row


def models_with_file_stem(stem: str) -> list[tuple[ModelRecord, str]]:
    """(model, file) for each library file named `<stem>.<ext>` at a model folder's top."""
    glob = "".join(f"[{c}]" if c in "*?[" else c for c in stem) + ".*"
    rows = (
        FileRecord.select(FileRecord, ModelRecord)
        .join(ModelRecord)
        .where(fn.glob(glob, FileRecord.rel_path))
    )
    return [
        (row.model, row.rel_path)
        for row in rows
        if "/" not in row.rel_path and row.rel_path.rsplit(".", 1)[0] == stem
    ]


def get_model(model_id: str) -> ModelRecord | None:
    return ModelRecord.get_or_none(ModelRecord.model_id == model_id)


MIN_ID_PREFIX = 4  # shorter prefixes match too much to be meant


def find_model(text: str) -> ModelRecord | None:
    """A model as users name one: its id, an id prefix, or its exact name (any case).

    Raises AmbiguousModel when a prefix or a name fits several models.
    """
    record = get_model(text)
    if record is not None:
        return record
    if len(text) >= MIN_ID_PREFIX:
        by_id = list(ModelRecord.select().where(ModelRecord.model_id.startswith(text)).limit(50))
        if len(by_id) > 1:
            raise AmbiguousModel(text, by_id)
        if by_id:
            return by_id[0]
    by_name = list(
        ModelRecord.select()
        .where(fn.lower(ModelRecord.name) == text.lower())
        .order_by(ModelRecord.model_id)
        .limit(50)
    )
    if len(by_name) > 1:
        raise AmbiguousModel(text, by_name)
    return by_name[0] if by_name else None


def model_object(root: Path, record: ModelRecord) -> dict[str, Any]:
    """The contract's model object, from the index alone (no disk reads)."""
    return model_objects(root, [record])[0]


def model_objects(root: Path, records: list[ModelRecord]) -> list[dict[str, Any]]:
    """Model objects for many records, with their files fetched in one query."""
    return row_objects(database.connection(), root, [record.__data__ for record in records])
