"""The texts of the tray's notifications: one per burst of imports, links, the library drive.

Outcomes of a burst of drops are collected in an `ImportBatch` and told in
one notification (fifty files are one message, not fifty); the model decides
when a batch is over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modeld.tray.wording import as_int, count, list_some, model_summary, names


@dataclass(frozen=True)
class Notification:
    kind: str  # one of modeld.config.NOTIFY_KINDS: imported | quarantined | links | library
    title: str
    body: str


@dataclass
class ImportBatch:
    """Outcomes of one burst of imports, reported together."""

    first: float
    last: float
    imported: list[Mapping[str, Any]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)


def batch_notifications(batch: ImportBatch) -> list[Notification]:
    out = []
    if batch.imported or batch.duplicates or batch.failed:
        out.append(_import_notification(batch))
    if batch.quarantined:
        out.append(_quarantine_notification(batch.quarantined))
    return out


def _import_notification(batch: ImportBatch) -> Notification:
    parts = []
    if batch.imported:
        if len(batch.imported) == 1:
            model = batch.imported[0]
            title = f"Imported {model.get('name') or 'a model'}"
            parts.append(model_summary(model))
        else:
            title = f"Imported {len(batch.imported)} models"
            imported = [str(m.get("name") or "?") for m in batch.imported]
            parts.append(list_some(imported, 3))
    elif batch.duplicates:
        title = f"{count(len(batch.duplicates), 'duplicate')} skipped"
    else:
        title = f"{count(len(batch.failed), 'file')} could not be imported"
    if batch.duplicates and batch.imported:
        parts.append(
            f"{count(len(batch.duplicates), 'duplicate')} skipped (already in the library)"
        )
    elif batch.duplicates:
        parts.append("Already in the library: " + list_some(names(batch.duplicates), 3))
    if batch.failed:
        path, reason = batch.failed[0]
        more = f" (and {len(batch.failed) - 1} more)" if len(batch.failed) > 1 else ""
        failed = f"{count(len(batch.failed), 'file')} failed"
        if batch.imported or batch.duplicates:
            parts.append(f"{failed}: {os.path.basename(path)}: {reason}{more}")
        else:
            parts.append(f"{os.path.basename(path)}: {reason}{more}")
    return Notification("imported", title, "\n".join(p for p in parts if p))


def _quarantine_notification(items: list[tuple[str, str]]) -> Notification:
    if len(items) == 1:
        path, reason = items[0]
        return Notification("quarantined", f"Quarantined {os.path.basename(path)}", reason)
    lines = [f"{os.path.basename(p)}: {r}" for p, r in items[:3]]
    if len(items) > 3:
        lines.append(f"and {len(items) - 3} more")
    return Notification("quarantined", f"{len(items)} files quarantined", "\n".join(lines))


def links_repaired_notification(fixed: int, unfixed: int) -> Notification:
    if unfixed:
        title = "Some links could not be repaired"
        body = f"{count(unfixed, 'link')} still broken"
        if fixed:
            body = f"Repaired {count(fixed, 'link')}; {body}"
        return Notification("links", title, body)
    return Notification("links", "Links repaired", f"Repaired {count(fixed, 'link')}")


def links_check_notification(result: Mapping[str, Any]) -> Notification:
    """The answer to "Check links now" (a `links check --json` document)."""

    def n(key: str) -> int:
        value = result.get(key, 0)
        return len(value) if isinstance(value, list) else as_int(value)

    bad = n("broken") + n("missing")
    title = "Links are fine" if bad == 0 else f"{count(bad, 'link')} need repair"
    body = (
        f"{n('checked')} checked: {n('ok')} ok, {n('broken')} broken, "
        f"{n('missing')} missing, {n('orphaned')} orphaned"
    )
    return Notification("links", title, body)


def library_notification(online: bool, root: str) -> Notification:
    if online:
        return Notification("library", "Library drive is back", f"{root} is reachable again")
    return Notification(
        "library",
        "Library drive offline",
        f"{root} is not reachable; imports wait until it is back",
    )
