"""Make one model's links in one app what they should be (used by sync, repair and import).

For each link the app's kind wants, an existing registered link is checked
and fixed in place; a new one is created under the preferred name, or under
a suffixed name when something modeld does not own sits there (or skipped,
per `on_conflict`). Registered links the model no longer wants are removed.
"""

from __future__ import annotations

import logging
import os
import posixpath
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from modeld.ingest.hashing import hash_file
from modeld.ingest.naming import with_suffix_tag
from modeld.links import registry
from modeld.links.canary import LinkMethod, LinkUnsupported
from modeld.links.kinds.base import Placement
from modeld.links.linkops import (
    CONTRACT_STATUS,
    DANGLING,
    HARDLINK,
    MISSING,
    OK,
    REASONS,
    REPLACED,
    STALE,
    SYMLINK,
    TARGET_GONE,
    RealDirs,
    create,
    observe,
    occupant,
    prune_empty,
    remove_owned,
    repoint,
)
from modeld.links.model import LibraryModel
from modeld.links.overrides import Decision
from modeld.links.paths import join
from modeld.links.registry import LinkRecord
from modeld.links.report import LinkReport
from modeld.links.sites import AppSite, Library

log = logging.getLogger(__name__)

# outcomes of fixing one registered link
UNCHANGED, RECREATED, REPOINTED, RELEASED, UNFIXED = (
    "unchanged",
    "recreated",
    "repointed",
    "released",
    "unfixed",
)


@dataclass
class LinkPass:
    """One pass over some links: shared caches, the report, and registry writes to flush.

    Inserts and rewrites are collected and written in batches (`flush`): a
    full sync or a repair after a move touches tens of thousands of rows.
    """

    library: Library  # (removals also run with the library offline: see remove_model_links)
    sites: dict[str, AppSite]
    report: LinkReport = field(default_factory=LinkReport)
    real_dirs: RealDirs = field(default_factory=RealDirs)
    now: float = field(default_factory=time.time)
    statuses: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    rewrites: dict[int, tuple[str, str, bool]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    # path -> model_id of every registered link, for full passes (None: ask the database)
    owners: dict[str, str] | None = None
    groups: dict[str, str] | None = None  # group folder -> model_id, likewise
    _new_paths: dict[str, str] = field(default_factory=dict)
    _new_groups: dict[str, str] = field(default_factory=dict)
    _reported: set[tuple[str, str]] = field(default_factory=set)

    def load_owners(self, rows: list[LinkRecord]) -> None:
        self.owners = {row.path: row.model_id for row in rows}
        self.groups = {row.group: row.model_id for row in rows if row.group}

    def owner_of(self, path: str) -> str | None:
        if path in self._new_paths:
            return self._new_paths[path]
        if self.owners is not None:
            return self.owners.get(path)
        row = registry.row_at(path)
        return row.model_id if row else None

    def group_owner(self, group: str) -> str | None:
        if group in self._new_groups:
            return self._new_groups[group]
        if self.groups is not None:
            return self.groups.get(group)
        row = LinkRecord.get_or_none(LinkRecord.group == group)
        return row.model_id if row else None

    def registered_paths(self) -> set[str]:
        """Every registered link path, including this pass's unflushed ones (full passes)."""
        return set(self.owners or ()) | set(self._new_paths)

    def register(
        self,
        app: str,
        model: LibraryModel,
        source: str,
        is_dir: bool,
        path: str,
        kind: str,
        group: str | None,
    ) -> None:
        """Register a link made (or adopted) in this pass; written at the next flush."""
        file = model.file(source)
        self.pending.append(
            registry.new_row(
                app=app,
                model_id=model.model_id,
                path=path,
                target=self.library.target(model, source),
                source=source,
                kind=kind,
                is_dir=is_dir,
                group=group,
                blake3=file.blake3 if file else model.blake3,
                size=file.size if file else None,
                now=self.now,
            )
        )
        self._new_paths[path] = model.model_id
        if group:
            self._new_groups[group] = model.model_id

    def rewrite(self, row: LinkRecord, target: str, kind: str, is_dir: bool) -> None:
        row.target, row.kind, row.is_dir = target, kind, is_dir
        self.rewrites[row.pk] = (target, kind, is_dir)

    def forgotten(self, row: LinkRecord) -> None:
        if self.owners is not None:
            self.owners.pop(row.path, None)
        self.statuses.pop(row.pk, None)
        self.rewrites.pop(row.pk, None)

    def status(self, row: LinkRecord, status: str, reason: str | None = None) -> None:
        self.statuses[row.pk] = (status, reason)

    def setup_problem(self, site: AppSite, error: Exception) -> None:
        """A folder where nothing can be linked: reported once per pass, not once per model."""
        key = (site.name, str(error))
        if key not in self._reported:
            self._reported.add(key)
            self.report.problem(app=site.name, reason=str(error))

    def flush(self) -> None:
        """Write the collected registry changes (call inside a transaction)."""
        registry.insert_rows(self.pending)
        registry.rewrite_rows(self.rewrites)
        registry.set_statuses(self.statuses, self.now)
        if self.owners is not None:
            self.owners.update(self._new_paths)
        if self.groups is not None:
            self.groups.update(self._new_groups)
        self.pending.clear()
        self.rewrites.clear()
        self.statuses.clear()
        self._new_paths.clear()
        self._new_groups.clear()


# -- one registered link ----------------------------------------------------------


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
        return hash_file(path).blake3 == blake3
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


# -- one model in one app ---------------------------------------------------------


def ensure_model(
    lp: LinkPass,
    site: AppSite,
    model: LibraryModel,
    rows: list[LinkRecord],
    decision: Decision,
) -> None:
    """Make `model`'s links in `site` exactly what the kind, config and overrides want."""
    folder = site.folder_for(model) if decision.allowed else None
    if not decision.allowed:
        lp.report.excluded.append(
            {"app": site.name, "model_id": model.model_id, "reason": decision.reason}
        )
    placements: list[Placement] = []
    method: LinkMethod | None = None
    if folder is not None:
        try:
            method = site.method_for(site.folder_path(folder))
        except (LinkUnsupported, OSError) as exc:
            lp.setup_problem(site, exc)
            return  # leave existing links as they are: nothing can be checked against
        placements = _expand(site.kind.placements(model, folder), model, method)
    wanted = {p.source: p for p in placements}
    kept: dict[str, LinkRecord] = {}
    for row in rows:
        placement = wanted.get(row.source)
        if placement is None or not _at_home(site, row, placement):
            remove_row(lp, row, lp.library.target(model, row.source))
            continue
        outcome = fix_row(lp, site, row, model)
        if outcome == UNCHANGED:
            lp.report.unchanged += 1
        if outcome != RELEASED:
            kept[row.source] = row
    units: dict[tuple[str, str], list[Placement]] = defaultdict(list)
    for placement in placements:
        if placement.source not in kept:
            units[(placement.folder, placement.entry)].append(placement)
    if method is None or not units:
        return
    # a multi-file model already partly linked keeps the folder name it got before
    groups = {(p.folder, p.entry): kept[p.source].group for p in placements if p.source in kept}
    for key, unit in units.items():
        entry = posixpath.basename(groups[key]) if groups.get(key) else key[1]
        _place_unit(lp, site, model, unit, entry, method)


def _expand(
    placements: list[Placement], model: LibraryModel, method: LinkMethod
) -> list[Placement]:
    """A folder cannot be hardlinked: make a real folder of hardlinked files instead."""
    if method.kind != HARDLINK:
        return placements
    out = []
    for p in placements:
        if not p.is_dir:
            out.append(p)
            continue
        prefix = f"{p.source}/" if p.source else ""
        out.extend(
            Placement(f.rel, p.folder, p.entry, inner=f.rel[len(prefix) :])
            for f in model.files
            if f.rel.startswith(prefix)
        )
    return out


def _at_home(site: AppSite, row: LinkRecord, placement: Placement) -> bool:
    """Is this registered link where the placement wants it (allowing a suffixed name)?"""
    folder = site.folder_path(placement.folder)
    if row.is_dir != placement.is_dir:
        return False
    if placement.inner:
        return (
            bool(row.group)
            and os.path.dirname(row.group) == folder
            and row.path == join(row.group, placement.inner)
        )
    return row.group is None and os.path.dirname(row.path) == folder


def candidates(entry: str, is_folder: bool, tag: str, policy: str) -> list[str]:
    """The preferred name, then (policy "suffix") names tagged with the model's hash."""
    names = [entry]
    if policy == "suffix":
        for length in (8, 16, len(tag)):
            names.append(
                f"{entry}-{tag[:length]}" if is_folder else with_suffix_tag(entry, tag[:length])
            )
    return list(dict.fromkeys(names))


def _place_unit(
    lp: LinkPass,
    site: AppSite,
    model: LibraryModel,
    unit: list[Placement],
    entry: str,
    method: LinkMethod,
) -> None:
    folder = site.folder_path(unit[0].folder)
    grouped = bool(unit[0].inner)
    preferred = os.path.join(folder, entry)
    blocker = None
    tag = model.blake3 or model.model_id
    for name in candidates(entry, grouped or unit[0].is_dir, tag, site.app.on_conflict):
        path = os.path.join(folder, name)
        if grouped:
            placed = _place_group(lp, site, model, unit, path, method)
        else:
            placed = _place_one(lp, site, model, unit[0], path, method)
        if placed is None:  # an error, already reported
            return
        if placed:
            if name != entry:
                _conflict(lp, site, model, preferred, blocker, path)
            return
        blocker = blocker or occupant(path)
    _conflict(lp, site, model, preferred, blocker, None)


def _conflict(
    lp: LinkPass,
    site: AppSite,
    model: LibraryModel,
    preferred: str,
    occupied_by: str | None,
    linked_as: str | None,
) -> None:
    resolution = "suffixed" if linked_as else "skipped"
    log.info(
        "app %s: %s is taken by a %s modeld does not own; %s",
        site.name,
        preferred,
        occupied_by or "link",
        f"linked as {linked_as}" if linked_as else "not linked",
    )
    lp.report.conflicts.append(
        {
            "app": site.name,
            "model_id": model.model_id,
            "path": preferred,
            "occupied_by": occupied_by,
            "resolution": resolution,
            "linked_as": linked_as,
        }
    )


def _place_one(
    lp: LinkPass,
    site: AppSite,
    model: LibraryModel,
    placement: Placement,
    path: str,
    method: LinkMethod,
) -> bool | None:
    """True when linked (or an identical unowned link adopted), False when the name is taken."""
    found = occupant(path)
    if found is not None:
        return _adopt(lp, site, model, placement, path, found, None)
    try:
        create(path, lp.library.real_target(model, placement.source), method, lp.real_dirs)
    except FileExistsError:
        return False
    except OSError as exc:
        lp.report.problem(app=site.name, model_id=model.model_id, path=path, reason=str(exc))
        return None
    lp.register(site.name, model, placement.source, placement.is_dir, path, method.kind, None)
    lp.report.created += 1
    return True


def _place_group(
    lp: LinkPass,
    site: AppSite,
    model: LibraryModel,
    unit: list[Placement],
    group: str,
    method: LinkMethod,
) -> bool | None:
    """All files of a multi-file model inside one folder modeld makes (or made before)."""
    found = occupant(group)
    if found is not None and not (found == "dir" and lp.group_owner(group) == model.model_id):
        return False
    try:
        os.makedirs(group, exist_ok=True)
    except OSError as exc:
        lp.report.problem(app=site.name, model_id=model.model_id, path=group, reason=str(exc))
        return None
    for placement in unit:
        path = join(group, placement.inner)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            found = occupant(path)
            if found is not None:
                if _adopt(lp, site, model, placement, path, found, group):
                    continue
                raise FileExistsError(f"{path} is taken by a {found} modeld does not own")
            create(path, lp.library.real_target(model, placement.source), method, lp.real_dirs)
        except OSError as exc:
            lp.report.problem(app=site.name, model_id=model.model_id, path=path, reason=str(exc))
            continue
        lp.register(site.name, model, placement.source, placement.is_dir, path, method.kind, group)
        lp.report.created += 1
    return True


def _adopt(
    lp: LinkPass,
    site: AppSite,
    model: LibraryModel,
    placement: Placement,
    path: str,
    found: str,
    group: str | None,
) -> bool:
    """Take over an unregistered link at `path` that already reaches exactly this file."""
    if lp.owner_of(path) is not None:
        return False
    target = lp.library.target(model, placement.source)
    if found == "symlink":
        kind = SYMLINK
    elif found == "file":
        kind = HARDLINK
    else:
        return False
    if observe(path, kind, target) != OK:
        return False
    lp.register(site.name, model, placement.source, placement.is_dir, path, kind, group)
    lp.report.adopted += 1
    return True
