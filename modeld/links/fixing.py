"""Keep one registered link right: fix it in place, release it, or remove it.

Only what is provably ours is touched: a real file or folder at a link's
path is released (forgotten, left alone), a stale hardlink is replaced only
when it holds exactly the library's bytes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from modeld.links.errors import LinkUnsupported
from modeld.links.linkops import (
    CONTRACT_STATUS,
    DANGLING,
    MISSING,
    OK,
    REASONS,
    REPLACED,
    STALE,
    SYMLINK,
    TARGET_GONE,
    create,
    observe,
    prune_empty,
    remove_owned,
    repoint,
)
from modeld.links.linkpass import LinkPass
from modeld.links.model import LibraryModel
from modeld.links.registry import LinkRecord
from modeld.links.sites import AppSite
from modeld.vocab.hashing import hash_file

log = logging.getLogger(__name__)

# outcomes of fixing one registered link
UNCHANGED, RECREATED, REPOINTED, RELEASED, UNFIXED = (
    "unchanged",
    "recreated",
    "repointed",
    "released",
    "unfixed",
)


def fix_row(lp: LinkPass, site: AppSite, row: LinkRecord, model: LibraryModel) -> str:
    """Bring one registered link back to its model, touching only what is ours."""
    target = lp.library.target(model, row.source)
    real_target = lp.library.real_target(model, row.source)
    state = observe(row.path, row.kind, target)
    if state == OK:
        if row.target != target:  # e.g. a relative link that moved along with the library
            lp.rewrite(row, target, row.kind, row.is_dir)
        lp.status(row, "ok")
        return UNCHANGED
    if state == REPLACED:
        return release(lp, row, "a real file or folder now sits at the link's path")
    if state == TARGET_GONE or not os.path.exists(real_target):
        return _target_gone(lp, row, state)
    if state == STALE and not _same_bytes(row.path, row.size, row.blake3):
        return release(lp, row, "the file at the link's path holds other bytes")
    try:
        method = site.method_for(os.path.dirname(row.path))
        if state == MISSING:
            create(row.path, real_target, method, lp.real_dirs)
        else:  # DANGLING, WRONG, or a STALE hardlink proven to hold the same bytes
            repoint(row.path, real_target, method, lp.real_dirs)
    except (LinkUnsupported, OSError) as exc:
        lp.status(row, CONTRACT_STATUS[state], str(exc))
        lp.report.unfixed += 1
        lp.report.problem(app=row.app, model_id=row.model_id, path=row.path, reason=str(exc))
        return UNFIXED
    lp.rewrite(row, target, method.kind, os.path.isdir(real_target))
    lp.status(row, "ok")
    if state == MISSING:
        lp.report.recreated += 1
        return RECREATED
    lp.report.repointed += 1
    return REPOINTED


def _target_gone(lp: LinkPass, row: LinkRecord, state: str) -> str:
    """The model's file is not in the library: nothing to aim at.

    A dangling symlink of ours is removed (apps crash on them) while the row
    stays, so the link comes back when the file does. A hardlink is left: it
    may now hold the only copy of those bytes.
    """
    reason = REASONS[TARGET_GONE]
    status = "missing" if state == MISSING else "broken"
    if state == DANGLING and remove_owned(row.path, SYMLINK, None):
        status = "missing"
    lp.status(row, status, reason)
    lp.report.unfixed += 1
    lp.report.problem(app=row.app, model_id=row.model_id, path=row.path, reason=reason)
    return UNFIXED


def _same_bytes(path: str, size: int | None, blake3: str | None) -> bool:
    """A stale hardlink may be replaced only if it holds exactly the library's bytes."""
    if size is None or blake3 is None:
        return False
    try:
        if os.stat(path).st_size != size:
            return False
        return hash_file(Path(path)).blake3 == blake3
    except OSError:
        return False


def release(lp: LinkPass, row: LinkRecord, why: str) -> str:
    """Forget a registered path that is no longer ours; whatever is there is left alone."""
    log.warning("app %s: %s: %s; left untouched, no longer managed", row.app, row.path, why)
    lp.report.released += 1
    lp.report.problem(
        app=row.app, model_id=row.model_id, path=row.path, reason=f"{why}; left untouched"
    )
    lp.forgotten(row)
    row.delete_instance()
    return RELEASED


def remove_row(lp: LinkPass, row: LinkRecord, target: str | None) -> bool:
    """Remove our link and its row; a path that is not ours any more is only forgotten."""
    try:
        removed = remove_owned(row.path, row.kind, target)
    except OSError as exc:
        lp.report.problem(app=row.app, model_id=row.model_id, path=row.path, reason=str(exc))
        return False
    if removed:
        prune_empty(row.path, row.group)
        lp.report.removed += 1
    else:
        log.warning("app %s: %s is not modeld's link any more; left untouched", row.app, row.path)
    lp.forgotten(row)
    row.delete_instance()
    return removed
