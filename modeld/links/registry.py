"""The link registry: one row per link modeld made, in the index database.

Ownership is the point: repair and cleanup only ever act on paths listed
here (other tools deleted links, and once a real folder, that they did not
make). A row is keyed by its path; (app, model_id, source) says what it is
for, so a link renamed by conflict handling is still recognised as the same
link.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    FloatField,
    TextField,
    fn,
)

from modeld.library.db import IndexModel, database, get_state, register_tables, set_state


class LinkRecord(IndexModel):
    pk = AutoField()
    app = CharField(index=True)  # the [[app]] name
    model_id = CharField(index=True)
    path = TextField(unique=True)  # the link, absolute, as built from the configured app path
    target = TextField()  # the library file or folder it reached when last written
    source = TextField()  # the target relative to the model folder ('' = the folder)
    kind = CharField()  # symlink | hardlink
    is_dir = BooleanField(default=False)
    group = TextField(null=True, index=True)  # the per-model folder modeld made around it, if any
    blake3 = CharField(null=True, index=True)  # the file's (or a folder model's primary) hash
    size = BigIntegerField(null=True)
    status = CharField(default="ok", index=True)  # ok | broken | missing, as of the last look
    reason = TextField(null=True)
    created_at = FloatField()
    verified_at = FloatField(null=True)

    class Meta:
        table_name = "links"
        indexes = ((("app", "model_id"), False),)


register_tables(LinkRecord)

# state keys: where the library and each app were last seen (to notice a move)
LIBRARY_ROOT_KEY = "links.library_root"
APP_ROOT_KEY = "links.app_root.{}"
ORPHANS_KEY = "links.orphaned"

_CHUNK = 400  # stays under SQLite's bound-parameter limit


def chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rows_for_models(model_ids: Iterable[str]) -> list[LinkRecord]:
    rows: list[LinkRecord] = []
    for part in chunks(list(model_ids)):
        rows.extend(LinkRecord.select().where(LinkRecord.model_id.in_(part)))
    return rows


def all_rows() -> list[LinkRecord]:
    return list(LinkRecord.select().order_by(LinkRecord.pk))


def row_at(path: str) -> LinkRecord | None:
    return LinkRecord.get_or_none(LinkRecord.path == path)


def new_row(
    *,
    app: str,
    model_id: str,
    path: str,
    target: str,
    source: str,
    kind: str,
    is_dir: bool,
    group: str | None,
    blake3: str | None,
    size: int | None,
    now: float,
) -> dict[str, Any]:
    """A row to insert (with `insert_rows`), freshly verified."""
    return {
        "app": app,
        "model_id": model_id,
        "path": path,
        "target": target,
        "source": source,
        "kind": kind,
        "is_dir": is_dir,
        "group": group,
        "blake3": blake3,
        "size": size,
        "status": "ok",
        "reason": None,
        "created_at": now,
        "verified_at": now,
    }


_INSERT_COLUMNS = (
    "app",
    "model_id",
    "path",
    "target",
    "source",
    "kind",
    "is_dir",
    "group",
    "blake3",
    "size",
    "status",
    "reason",
    "created_at",
    "verified_at",
)


def insert_rows(rows: list[dict[str, Any]]) -> None:
    """Many rows in one prepared statement (a full sync inserts tens of thousands)."""
    if not rows:
        return
    columns = ", ".join(f'"{c}"' for c in _INSERT_COLUMNS)
    marks = ", ".join("?" for _ in _INSERT_COLUMNS)
    database.cursor().executemany(
        f'INSERT INTO "{LinkRecord._meta.table_name}" ({columns}) VALUES ({marks})',
        [tuple(row[c] for c in _INSERT_COLUMNS) for row in rows],
    )


def rewrite_rows(rewrites: dict[int, tuple[str, str, bool]]) -> None:
    """Store new (target, kind, is_dir) for re-made links, in one prepared statement."""
    if not rewrites:
        return
    database.cursor().executemany(
        f'UPDATE "{LinkRecord._meta.table_name}" SET target = ?, kind = ?, is_dir = ? WHERE pk = ?',
        [(*values, pk) for pk, values in rewrites.items()],
    )


def set_statuses(updates: dict[int, tuple[str, str | None]], verified_at: float) -> None:
    """Record the status each row was found in, grouped so 30,000 rows take a few statements."""
    groups: dict[tuple[str, str | None], list[int]] = {}
    for pk, value in updates.items():
        groups.setdefault(value, []).append(pk)
    for (status, reason), pks in groups.items():
        for part in chunks(pks):
            LinkRecord.update(status=status, reason=reason, verified_at=verified_at).where(
                LinkRecord.pk.in_(part)
            ).execute()


def status_counts() -> dict[str, int]:
    counts = {"ok": 0, "broken": 0, "missing": 0}
    query = LinkRecord.select(LinkRecord.status, fn.COUNT(LinkRecord.pk)).group_by(
        LinkRecord.status
    )
    # peewee's stubs say tuples() returns the query itself; it yields (status, count) tuples
    rows: Iterable[tuple[str, int]] = query.tuples()  # type: ignore[assignment]
    for status, count in rows:
        counts[status] = counts.get(status, 0) + count
    return counts


def stored_orphans() -> int:
    return int(get_state(ORPHANS_KEY, "0") or 0)


def store_orphans(count: int) -> None:
    set_state(ORPHANS_KEY, str(count))


def known_library_root() -> str | None:
    return get_state(LIBRARY_ROOT_KEY)


def remember_library_root(path: str) -> None:
    set_state(LIBRARY_ROOT_KEY, path)


def known_app_root(app: str) -> str | None:
    return get_state(APP_ROOT_KEY.format(app))


def remember_app_root(app: str, path: str) -> None:
    set_state(APP_ROOT_KEY.format(app), path)
