"""Place a model's new links: under the preferred name, a suffixed one, or not at all.

A name held by something modeld does not own is never replaced: policy
"suffix" tries names tagged with the model's hash, "skip" reports the
conflict. An unregistered link that already reaches exactly the model's
file is adopted rather than duplicated.
"""

from __future__ import annotations

import logging
import os

from modeld.links.canary import LinkMethod
from modeld.links.kinds.base import Placement
from modeld.links.linkops import HARDLINK, OK, SYMLINK, create, observe, occupant
from modeld.links.linkpass import LinkPass
from modeld.links.model import LibraryModel
from modeld.links.paths import join
from modeld.links.sites import AppSite
from modeld.vocab.naming import with_suffix_tag

log = logging.getLogger(__name__)


def candidates(entry: str, is_folder: bool, tag: str, policy: str) -> list[str]:
    """The preferred name, then (policy "suffix") names tagged with the model's hash."""
    names = [entry]
    if policy == "suffix":
        for length in (8, 16, len(tag)):
            names.append(
                f"{entry}-{tag[:length]}" if is_folder else with_suffix_tag(entry, tag[:length])
            )
    return list(dict.fromkeys(names))


def place_unit(
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
        _link(lp, site, model, placement, path, method, None)
    except FileExistsError:
        return False
    except OSError as exc:
        lp.report.problem(app=site.name, model_id=model.model_id, path=path, reason=str(exc))
        return None
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
            _link(lp, site, model, placement, path, method, group)
        except OSError as exc:
            lp.report.problem(app=site.name, model_id=model.model_id, path=path, reason=str(exc))
    return True


def _link(
    lp: LinkPass,
    site: AppSite,
    model: LibraryModel,
    placement: Placement,
    path: str,
    method: LinkMethod,
    group: str | None,
) -> None:
    """Make a new link at `path` and register it; the OSError of a failed create propagates."""
    create(path, lp.library.real_target(model, placement.source), method, lp.real_dirs)
    # register only queues the row (written at the next flush), so nothing after create can fail
    lp.register(site.name, model, placement.source, placement.is_dir, path, method.kind, group)
    lp.report.created += 1


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
