"""Check and repair: registered links against their models, and orphans in app folders.

check  reports; it changes nothing on disk (it records what it saw in the
       registry's status column, which `modeld status` reads).
repair fixes what check finds: missing -> recreated, broken -> re-aimed,
       orphaned -> adopted when it reaches a library file, removed only when it
       dangles into the library. Only registered links and dangling symlinks
       into the library are ever touched; never a real file or folder.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from modeld.links.linkops import (
    CONTRACT_STATUS,
    DANGLING,
    MISSING,
    REASONS,
    TARGET_GONE,
    LinkStatus,
    observe,
)
from modeld.links.model import LibraryModel
from modeld.links.paths import join, relative_within, resolve_text
from modeld.links.registry import LinkRecord
from modeld.links.relocate import Finder, Relocated
from modeld.links.sites import AppSite, Library

log = logging.getLogger(__name__)

MAX_DEPTH = 8  # below an app's models dir; deeper trees are not model folders


def link_dict(
    app: str, path: str, target: str, kind: str, status: str, **extra: Any
) -> dict[str, Any]:
    """The contract's LINK object (plus model_id and, for problems, a reason)."""
    document = {"app": app, "path": path, "target": target, "kind": kind, "status": status}
    document.update({k: v for k, v in extra.items() if v is not None})
    return document


@dataclass(frozen=True)
class RowHealth:
    row: LinkRecord
    status: LinkStatus | Literal["offline"]  # offline: not looked at
    state: str  # the detailed linkops state, or "offline" / "unknown_model"
    target: str
    reason: str | None

    def as_link(self) -> dict[str, Any]:
        return link_dict(
            self.row.app,
            self.row.path,
            self.target,
            self.row.kind,
            self.status,
            model_id=self.row.model_id,
            reason=self.reason,
        )


def row_health(
    row: LinkRecord,
    library: Library | None,
    sites: Mapping[str, AppSite],
    models: Mapping[str, LibraryModel],
) -> RowHealth:
    site = sites.get(row.app)
    model = models.get(row.model_id)
    target = library.target(model, row.source) if (library and model) else row.target
    if library is None:
        return RowHealth(row, "offline", "offline", target, "the library is not mounted")
    if site is not None and not site.online:
        return RowHealth(row, "offline", "offline", target, f"app folder {site.root} is not there")
    state = observe(row.path, row.kind, target)
    if model is None and state != MISSING:
        return RowHealth(row, "broken", "unknown_model", target, "its model is not in the library")
    reason = REASONS.get(state)
    if state in (MISSING, DANGLING) and not os.path.exists(target):
        reason = REASONS[TARGET_GONE]
    return RowHealth(row, CONTRACT_STATUS[state], state, target, reason)


@dataclass(frozen=True)
class Orphan:
    app: str
    path: str
    target: str  # where it points (resolved when it resolves)
    dangling: bool

    def as_link(self) -> dict[str, Any]:
        return link_dict(
            self.app,
            self.path,
            self.target,
            "symlink",
            "orphaned",
            reason="dangles into the library" if self.dangling else None,
        )


def find_orphans(site: AppSite, library: Library, registered: set[str]) -> Iterator[Orphan]:
    """Unregistered symlinks under the app's models dir that point into the library.

    The walk never follows a symlinked folder, except the app's own top-level
    folders (a models/checkpoints moved to another drive is common), and
    never enters the library itself.
    """
    roots = site.kind.link_roots if site.kind else ("",)
    stack: list[tuple[str, int]] = [(join(site.models_dir, root), 0) for root in roots]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:
            continue
        real_folder = None
        for entry in listed:
            if entry.name.startswith(".modeld"):
                continue
            try:
                is_link = entry.is_symlink()
            except OSError:
                continue
            if is_link:
                if entry.path in registered:
                    continue
                if real_folder is None:
                    real_folder = os.path.realpath(folder)
                orphan = _orphan(site.name, entry.path, real_folder, library)
                if orphan is not None:
                    yield orphan
                elif depth == 0 and _is_foreign_folder(entry.path, library):
                    stack.append((entry.path, depth + 1))
            elif (
                depth < MAX_DEPTH
                and entry.is_dir(follow_symlinks=False)
                and not entry.name.startswith(".")
                and not library.contains(entry.path)
            ):
                stack.append((entry.path, depth + 1))


def _orphan(app: str, path: str, real_folder: str, library: Library) -> Orphan | None:
    try:
        text = os.readlink(path)
    except OSError:
        return None
    pointed = resolve_text(real_folder, text)
    exists = os.path.exists(path)
    if exists:
        pointed = os.path.realpath(path)
    if library.contains(pointed):
        return Orphan(app, path, pointed, dangling=not exists)
    return None


def _is_foreign_folder(path: str, library: Library) -> bool:
    """A symlinked top-level folder (models/checkpoints on another drive), not into the library."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode) and not library.contains(os.path.realpath(path))
    except OSError:
        return False


def adoptable(
    orphan: Orphan, library: Library, finder: Finder
) -> tuple[LibraryModel, str, bool] | None:
    """(model, source, is_dir) when the orphan reaches one of the library's model files/folders."""
    if orphan.dangling:
        return None
    rel = relative_within(orphan.target, library.real)
    if not rel:
        return None
    hit = finder.by_path(rel)
    if hit is None:
        return None
    model, source = hit
    is_dir = os.path.isdir(orphan.target)
    if is_dir and model.is_folder_model and source == model.folder_root:
        return model, source, True
    if not is_dir and model.file(source) is not None:
        return model, source, False
    return None


def remove_dangling_orphan(orphan: Orphan, library: Library) -> bool:
    """Unlink an unregistered symlink only while it still dangles into the library."""
    try:
        if not stat.S_ISLNK(os.lstat(orphan.path).st_mode) or os.path.exists(orphan.path):
            return False
        text = os.readlink(orphan.path)
    except OSError:
        return False
    pointed = resolve_text(os.path.realpath(os.path.dirname(orphan.path)), text)
    if not library.contains(pointed):
        return False
    os.unlink(orphan.path)
    return True


class CheckDocument(TypedDict):
    """The contract's `links check --json` document (LINK objects as `link_dict` makes them)."""

    checked: int
    ok: int
    broken: list[dict[str, Any]]
    missing: list[dict[str, Any]]
    orphaned: list[dict[str, Any]]
    offline: int  # links not looked at: their app or the library is not mounted
    library: str  # online | offline
    relocated: NotRequired[Relocated]  # a library found at a new path (repair follows it)


def summarize(
    healths: list[RowHealth], orphans: list[Orphan], library: Library | None
) -> CheckDocument:
    """The contract's `links check --json` document."""
    result: CheckDocument = {
        "checked": len(healths),
        "ok": 0,
        "broken": [],
        "missing": [],
        "orphaned": [o.as_link() for o in orphans],
        "offline": 0,
        "library": "online" if library else "offline",
    }
    for health in healths:
        if health.status == "ok":
            result["ok"] += 1
        elif health.status == "offline":
            result["offline"] += 1
        elif health.status == "broken":
            result["broken"].append(health.as_link())
        else:  # the only status left: missing
            result["missing"].append(health.as_link())
    return result
