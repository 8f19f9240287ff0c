"""One pass over some links: shared caches, the report, and the registry writes to flush.

A pass is what sync, repair and import share: who owns which path, the
folders already resolved, and the rows to insert or rewrite in one batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from modeld.links import registry
from modeld.links.linkops import RealDirs
from modeld.links.model import LibraryModel
from modeld.links.registry import LinkRecord
from modeld.links.report import LinkReport
from modeld.links.sites import AppSite, Library


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
