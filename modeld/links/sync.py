"""Make one model's links in one app what they should be (used by sync, repair and import).

For each link the app's kind wants, an existing registered link is checked
and fixed in place; a new one is created under the preferred name, or under
a suffixed name when something modeld does not own sits there (or skipped,
per `on_conflict`). Registered links the model no longer wants are removed.
"""

from __future__ import annotations

import os
import posixpath
from collections import defaultdict

from modeld.links.canary import LinkMethod
from modeld.links.errors import LinkUnsupported
from modeld.links.fixing import RELEASED, UNCHANGED, fix_row, remove_row
from modeld.links.kinds.base import Placement
from modeld.links.linkops import HARDLINK
from modeld.links.linkpass import LinkPass
from modeld.links.model import LibraryModel
from modeld.links.overrides import Decision
from modeld.links.paths import join
from modeld.links.placing import place_unit
from modeld.links.registry import LinkRecord
from modeld.links.sites import AppSite


def ensure_model(
    lp: LinkPass,
    site: AppSite,
    model: LibraryModel,
    rows: list[LinkRecord],
    decision: Decision,
) -> None:
    """Make `model`'s links in `site` exactly what the kind, config and overrides want."""
    kind = site.kind
    # folder_for gives a folder only for a known kind: `kind` is checked with it below
    folder = site.folder_for(model) if decision.allowed else None
    if not decision.allowed:
        lp.report.excluded.append(
            {"app": site.name, "model_id": model.model_id, "reason": decision.reason}
        )
    placements: list[Placement] = []
    method: LinkMethod | None = None
    if folder is not None and kind is not None:
        try:
            method = site.method_for(site.folder_path(folder))
        except (LinkUnsupported, OSError) as exc:
            lp.setup_problem(site, exc)
            return  # leave existing links as they are: nothing can be checked against
        placements = _expand(kind.placements(model, folder), model, method)
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
        group = groups.get(key)
        entry = posixpath.basename(group) if group else key[1]
        place_unit(lp, site, model, unit, entry, method)


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
        group = row.group
        if not group:
            return False
        return os.path.dirname(group) == folder and row.path == join(group, placement.inner)
    return row.group is None and os.path.dirname(row.path) == folder
