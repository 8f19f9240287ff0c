"""Which source files were already dealt with, so rescans do not redo them.

A copy-mode watch (a removable drive) keeps its sources, and a refused file
stays in a move-mode inbox; without a ledger every rescan would read them
again. An entry is keyed by path and only counts while size, mtime and inode
are unchanged: a replaced file is looked at afresh.

The daemon reads it through `Ledger`, which knows the paths it holds, so
the thousands of new files of a burst cost no query each.

A path is stored losslessly whatever its name (`FsTextField`): a name that
is not UTF-8 is kept as its bytes, so looking it up never raises and finds
exactly that file.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from peewee import BigIntegerField, CharField

from modeld.library.db import FsTextField, IndexModel, database, register_tables


class SourceLedger(IndexModel):
    path = FsTextField(primary_key=True)
    size = BigIntegerField()
    mtime_ns = BigIntegerField()
    inode = BigIntegerField()
    outcome = CharField()  # imported | duplicate | quarantined | failed
    detail = FsTextField(default="")  # a reason, which may quote the path

    class Meta:
        table_name = "source_ledger"


register_tables(SourceLedger)


@dataclass(frozen=True)
class Handled:
    """What a source still there came to, and why (a refusal's reason)."""

    outcome: str
    reason: str


# one plain statement (sqlite3 caches it prepared): the ORM's query cost ~5 ms a file
_LOOKUP = "SELECT size, mtime_ns, inode, outcome, detail FROM source_ledger WHERE path = ?"


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def handled(path: Path) -> Handled | None:
    """What `path` came to, if it is the file the ledger saw (same size, mtime, inode)."""
    info = _stat(path)
    if info is None:
        return None
    row = database.execute_sql(_LOOKUP, (SourceLedger.path.db_value(str(path)),)).fetchone()
    if row is None or tuple(row[:3]) != (info.st_size, info.st_mtime_ns, info.st_ino):
        return None
    return Handled(row[3], SourceLedger.detail.python_value(row[4]))


def record(path: Path, outcome: str, detail: str = "") -> bool:
    """Remember a source that is still there after it was handled (True); forget
    one that is gone (False)."""
    info = _stat(path)
    if info is None:
        SourceLedger.delete().where(SourceLedger.path == str(path)).execute()
        return False
    SourceLedger.insert(
        path=str(path),
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
        outcome=outcome,
        detail=detail,
    ).on_conflict_replace().execute()
    return True


class Ledger:
    """The ledger as the daemon reads it, which alone writes it: the paths it holds
    are loaded once and kept up to date, so a new file, nearly every file a watch
    offers, is known not to be in it without a query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] | None = None

    def handled(self, path: Path) -> Handled | None:
        with self._lock:
            if str(path) not in self._known():
                return None
        return handled(path)

    def record(self, path: Path, outcome: str, detail: str = "") -> None:
        kept = record(path, outcome, detail)
        with self._lock:
            (self._known().add if kept else self._known().discard)(str(path))

    def _known(self) -> set[str]:
        if self._paths is None:
            rows = database.execute_sql("SELECT path FROM source_ledger")
            self._paths = {SourceLedger.path.python_value(value) for (value,) in rows}
        return self._paths
