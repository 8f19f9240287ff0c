"""The index's rows as plain values, without the ORM.

How names are stored (`to_db`/`from_db`), and the contract's model object
built from a `models` row and its `files` rows. `modeld search` reads the
index through here on a bare sqlite3 connection, so it never loads peewee;
`index.model_objects` builds its objects here too, so there is one model
object.

Paths and file names go in through `to_db`: SQLite's driver refuses the lone
surrogates that stand for bytes that are not UTF-8, so such a name is stored
as its exact bytes, a BLOB. Every other name stays TEXT, and a BLOB never
equals a TEXT, so the two forms cannot be confused.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Row = Mapping[str, Any]  # a row of `models` or `files`, as stored, by column name


def to_db(name: str) -> str | bytes:
    """A path or name as SQLite can store it, losslessly."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name)
    return name


def from_db(value: str | bytes) -> str:
    """What `to_db` stored, as os.fsdecode gives it."""
    return os.fsdecode(value) if isinstance(value, bytes) else value


def model_objects(
    conn: sqlite3.Connection, root: Path, models: Sequence[Row]
) -> list[dict[str, Any]]:
    """Model objects for `models` rows, with their files fetched in one query."""
    files: dict[int, list[Row]] = {model["pk"]: [] for model in models}
    if files:
        marks = ", ".join("?" * len(files))
        cursor = conn.execute(
            "SELECT model_id, rel_path, size, sha256, blake3 FROM files "
            f"WHERE model_id IN ({marks}) ORDER BY rel_path",
            list(files),
        )
        for model_pk, rel_path, size, sha256, blake3 in cursor:
            files[model_pk].append(
                {"rel_path": rel_path, "size": size, "sha256": sha256, "blake3": blake3}
            )
    return [model_object(root, model, files[model["pk"]]) for model in models]


def model_object(root: Path, model: Row, files: list[Row]) -> dict[str, Any]:
    """The contract's model object, from the index alone (no disk reads)."""
    folder = root / from_db(model["rel_path"])
    return {
        "id": model["model_id"],
        "name": model["name"],
        "model_type": model["model_type"],
        "family": model["family"],
        "format": model["format"],
        "precision": model["precision"],
        "quant": model["quant"],
        "size": model["size"],
        "path": str(folder),
        "sha256": model["sha256"],
        "blake3": model["blake3"],
        "files": [
            {
                "path": str(folder / from_db(f["rel_path"])),
                "size": f["size"],
                "sha256": f["sha256"],
                "blake3": f["blake3"],
            }
            for f in files
        ],
        "tags": json.loads(model["tags"]),
        "hub": json.loads(model["hub"]) if model["hub"] else None,
    }
