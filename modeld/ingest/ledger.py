"""Which source files were already dealt with, so rescans do not redo them.

A copy-mode watch (a removable drive) keeps its sources, and a refused file
stays in a move-mode inbox; without a ledger every rescan would read them
again. An entry is keyed by path and only counts while size, mtime and inode
are unchanged: a replaced file is looked at afresh.

A path is stored losslessly whatever its name (`FsTextField`): a name that
is not UTF-8 is kept as its bytes, so looking it up never raises and finds
exactly that file.
"""

from __future__ import annotations

import os
from pathlib import Path

from peewee import BigIntegerField, CharField

from modeld.library.db import FsTextField, IndexModel, register_tables


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


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def already_handled(path: Path) -> bool:
    info = _stat(path)
    if info is None:
        return False
    entry = SourceLedger.get_or_none(SourceLedger.path == str(path))
    return entry is not None and (entry.size, entry.mtime_ns, entry.inode) == (
        info.st_size,
        info.st_mtime_ns,
        info.st_ino,
    )


def record(path: Path, outcome: str, detail: str = "") -> None:
    """Remember a source that is still there after it was handled."""
    info = _stat(path)
    if info is None:
        SourceLedger.delete().where(SourceLedger.path == str(path)).execute()
        return
    SourceLedger.insert(
        path=str(path),
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
        outcome=outcome,
        detail=detail,
    ).on_conflict_replace().execute()
