"""Full-text search over the index (pure query building + one SQL query).

The query runs on a plain sqlite3 connection (`search_rows`), so `modeld
search` reads the index without loading peewee; `search` gives ORM records to
callers that have the index open.

User text never reaches MATCH unquoted: every term becomes an FTS5 string
(inner quotes doubled), so `"`, `*`, `:`, `NEAR(`, `AND` are just text.
The trigram tokenizer cannot match terms under 3 characters; those become
escaped LIKE filters over model names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

    from modeld.library.db import ModelRecord

FTS_COLUMNS = ("name", "model_type", "family", "tags", "files", "description")
# bm25 weights, in FTS_COLUMNS order: a hit in the name matters most
BM25_WEIGHTS = (10.0, 2.0, 2.0, 3.0, 5.0, 1.0)
# terms too short for trigrams match model names only (a full scan: keep it narrow)
LIKE_COLUMNS = ("name",)
RANK_BUDGET = 1000  # matching rows x terms ranked by bm25
MAX_TERMS = 32
MIN_TRIGRAM = 3


@dataclass(frozen=True)
class Query:
    match: str | None  # an FTS5 expression built only from quoted strings
    match_terms: int  # how many terms `match` holds
    like_terms: tuple[str, ...]  # escaped LIKE patterns for short terms


def fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def build_query(text: str) -> Query:
    """Split on whitespace; every term must match (AND)."""
    terms = list(dict.fromkeys(t for t in text.split() if t))[:MAX_TERMS]
    long_terms = [t for t in terms if len(t) >= MIN_TRIGRAM]
    short_terms = [t for t in terms if len(t) < MIN_TRIGRAM]
    match = " ".join(fts_string(t) for t in long_terms) or None
    return Query(
        match=match,
        match_terms=len(long_terms),
        like_terms=tuple(like_pattern(t) for t in short_terms),
    )


def search(
    text: str | None, *, model_type: str | None = None, limit: int = 50
) -> list[ModelRecord]:
    """`search_rows` on the open index, as records."""
    # lazy: CLI start-up (`modeld search` calls search_rows, without the ORM)
    from modeld.library.db import ModelRecord, database

    rows = search_rows(database.connection(), text, model_type=model_type, limit=limit)
    return [ModelRecord(**row) for row in rows]


def search_rows(
    conn: sqlite3.Connection, text: str | None, *, model_type: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """`models` rows matching `text`, best first (bm25); no text lists everything by name.

    bm25 costs about half a microsecond per matching row and term (more for
    long terms, which are several trigrams), and a term like `sdxl` can match
    a third of a large library. Counting matches is ten times cheaper, so past
    RANK_BUDGET rows x terms the newest models come first instead of the
    best-scored: at that size the user refines the query anyway.
    """
    query = build_query(text or "")
    where: list[str] = []
    params: list[object] = []
    if query.match:
        where.append("model_search MATCH ?")
        params.append(query.match)
    for pattern in query.like_terms:
        # short terms: scanning the models table beats the FTS content table
        where.append("(" + " OR ".join(f"m.{col} LIKE ? ESCAPE '\\'" for col in LIKE_COLUMNS) + ")")
        params.extend([pattern] * len(LIKE_COLUMNS))
    if model_type:
        where.append("m.model_type = ?")
        params.append(model_type)
    if query.match:
        ranked = _match_count(conn, query.match) * query.match_terms <= RANK_BUDGET
        weights = ", ".join(map(str, BM25_WEIGHTS))
        order = f"bm25(model_search, {weights}), m.name" if ranked else "s.rowid DESC"
        source = "model_search s JOIN models m ON m.pk = s.rowid"
    else:
        # a listing is by name; short-term-only matches stop early, newest first
        order = "m.pk DESC" if query.like_terms else "m.name COLLATE NOCASE, m.pk"
        source = "models m"
    filters = f"WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT m.* FROM {source} {filters} ORDER BY {order} LIMIT ?"
    params.append(max(0, limit))
    cursor = conn.execute(sql, params)
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _match_count(conn: sqlite3.Connection, match: str) -> int:
    sql = "SELECT count(*) FROM model_search WHERE model_search MATCH ?"
    count: int = conn.execute(sql, (match,)).fetchone()[0]
    return count
