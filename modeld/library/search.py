"""Full-text search over the index (pure query building + one SQL query).

User text never reaches MATCH unquoted: every term becomes an FTS5 string
(inner quotes doubled), so `"`, `*`, `:`, `NEAR(`, `AND` are just text.
The trigram tokenizer cannot match terms under 3 characters; those become
LIKE filters over the same columns (escaped), which trigram tables also
serve.
"""

from __future__ import annotations

from dataclasses import dataclass

from modeld.library.db import ModelRecord, database

FTS_COLUMNS = ("name", "model_type", "family", "tags", "files", "description")
# bm25 weights, in FTS_COLUMNS order: a hit in the name matters most
BM25_WEIGHTS = (10.0, 2.0, 2.0, 3.0, 5.0, 1.0)
MAX_TERMS = 32
MIN_TRIGRAM = 3


@dataclass(frozen=True)
class Query:
    match: str | None  # an FTS5 expression built only from quoted strings
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
    return Query(match=match, like_terms=tuple(like_pattern(t) for t in short_terms))


def search(
    text: str | None, *, model_type: str | None = None, limit: int = 50
) -> list[ModelRecord]:
    """Models matching `text`, best first (bm25); no text lists everything by name."""
    query = build_query(text or "")
    where: list[str] = []
    params: list[object] = []
    if query.match:
        where.append("model_search MATCH ?")
        params.append(query.match)
    for pattern in query.like_terms:
        where.append("(" + " OR ".join(f"s.{col} LIKE ? ESCAPE '\\'" for col in FTS_COLUMNS) + ")")
        params.extend([pattern] * len(FTS_COLUMNS))
    if model_type:
        where.append("m.model_type = ?")
        params.append(model_type)
    order = (
        "bm25(model_search, {}), m.name".format(", ".join(map(str, BM25_WEIGHTS)))
        if query.match
        else "m.name COLLATE NOCASE, m.pk"
    )
    if query.match or query.like_terms:
        sql = (
            "SELECT m.* FROM model_search s JOIN models m ON m.pk = s.rowid "
            f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
        )
    else:
        filters = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT m.* FROM models m {filters} ORDER BY {order} LIMIT ?"
    params.append(max(0, limit))
    cursor = database.execute_sql(sql, params)
    columns = [c[0] for c in cursor.description]
    return [ModelRecord(**dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]
