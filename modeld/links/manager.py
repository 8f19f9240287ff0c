"""LinkManager: the one entry point the daemon and the CLI use for links.

    manager = LinkManager(config)        # the index is already open (open_index)
    manager.sync_all()                   # at start: full reconcile, new [[app]]s get the library
    manager.sync_models(model_ids)       # after a batch of imports: only their links
    manager.sync_model(model_id)         # after an edit or a Hub match: one model's links
    manager.repair()                     # every [links] repair_minutes
    manager.check()                      # `links check --json`
    manager.counts()                     # `status --json` "links"
    manager.links_for_model(model_id)    # `show --json` "links"
    manager.remove_model_links(model_id) # `remove`, before the files go

Every method is safe to call from any thread (one lock serialises passes)
and does nothing to disk or registry while the library is unmounted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modeld.config import Config
from modeld.library.db import database
from modeld.links import registry
from modeld.links.fixing import RELEASED, fix_row, remove_row
from modeld.links.health import (
    CheckDocument,
    adoptable,
    find_orphans,
    remove_dangling_orphan,
    row_health,
    summarize,
)
from modeld.links.linkops import SYMLINK
from modeld.links.linkpass import LinkPass
from modeld.links.model import LibraryModel, load_models
from modeld.links.overrides import decide, read_overrides
from modeld.links.registry import LinkRecord
from modeld.links.relocate import Finder, Relocated, rebase_app
from modeld.links.report import LinkReport
from modeld.links.sites import AppSite, Library
from modeld.links.sync import ensure_model

log = logging.getLogger(__name__)

BATCH = 200  # models per transaction in a full pass
MAX_LOGGED_PROBLEMS = 10  # a mass failure is one summary, not ten thousand lines


class LinkManager:
    def __init__(self, config: Config):
        self.config = config
        self._lock = threading.RLock()
        self._sites: dict[str, AppSite] = {}
        self._sites_for_library: Library | None = None

    # -- reading ------------------------------------------------------------------

    def library(self) -> Library | None:
        """The mounted library, or None when its drive (marker file) is not there."""
        return Library.probe(self.config.library_root)

    def counts(self) -> dict[str, int]:
        """Link health as of the last check/sync/repair (database only: cheap enough for status)."""
        if self.library() is None:
            total = LinkRecord.select().count()
            return {"ok": 0, "broken": 0, "missing": 0, "orphaned": 0, "offline": total}
        counts = registry.status_counts()
        counts.setdefault("offline", 0)
        counts["orphaned"] = registry.stored_orphans()
        return counts

    def links_for_model(self, model_id: str) -> list[dict[str, Any]]:
        """The model's links with their live status (for `show --json`)."""
        with self._lock:
            library = self.library()
            sites = self._sites_of(library) if library else {}
            models = load_models([model_id])
            rows = registry.rows_for_models([model_id])
            return [row_health(row, library, sites, models).as_link() for row in rows]

    def check(self) -> CheckDocument:
        """`links check --json`: every registered link's health, plus orphans; changes no link."""
        with self._lock:
            library = self.library()
            rows = registry.all_rows()
            if library is None:
                log.warning(
                    "library at %s is not mounted: %d links not checked",
                    self.config.library_root,
                    len(rows),
                )
                return summarize([row_health(r, None, {}, {}) for r in rows], [], None)
            sites = self._sites_of(library)
            models = load_models()
            healths = [row_health(row, library, sites, models) for row in rows]
            registered = {row.path for row in rows}
            orphans = [
                orphan
                for site in sites.values()
                if site.online
                for orphan in find_orphans(site, library, registered)
            ]
            with database.atomic():
                registry.set_statuses(
                    {h.row.pk: (h.status, h.reason) for h in healths}, verified_at=time.time()
                )
                registry.store_orphans(len(orphans))
            result = summarize(healths, orphans, library)
            moved = registry.known_library_root()
            if moved and moved != library.root:
                result["relocated"] = {"library": {"from": moved, "to": library.root}}
                log.info(
                    "library moved from %s to %s: `modeld links repair` re-aims its links",
                    moved,
                    library.root,
                )
            return result

    # -- changing -----------------------------------------------------------------

    def sync_model(self, model_id: str) -> dict[str, Any]:
        """Create/fix only this model's links in every app (after an edit, a Hub match)."""
        return self.sync_models([model_id])

    def sync_models(self, model_ids: Sequence[str]) -> dict[str, Any]:
        """Create/fix only these models' links in every app (after a batch of imports),
        in one transaction: one per model cost more than the import of a small file."""
        ids = list(dict.fromkeys(model_ids))
        with self._lock:
            library = self.library()
            if library is None:
                return _offline_report(self.config.library_root)
            rows = registry.rows_for_models(ids)
            if not self.config.apps and not rows:
                # nothing to link into and nothing linked: no models to load, no transaction
                return self._finish(LinkPass(library, {}), "sync of new models")
            sites = self._sites_of(library)
            lp = LinkPass(library, sites)
            models = load_models(ids)
            rows_by_model: dict[str, list[LinkRecord]] = defaultdict(list)
            for row in rows:
                rows_by_model[row.model_id].append(row)
            with database.atomic():
                for model_id in ids:
                    model = models.get(model_id)
                    if model is None:
                        for row in rows_by_model.get(model_id, []):
                            remove_row(lp, row, None)
                    else:
                        self._ensure(lp, model, _by_app(rows_by_model.get(model_id, [])))
                lp.report.models = len(models)
                lp.flush()
            return self._finish(lp, "sync of new models" if len(ids) > 1 else "sync of one model")

    def sync_all(self) -> dict[str, Any]:
        """Full reconcile: every model into every app; stale links removed; moves followed."""
        with self._lock:
            library = self.library()
            if library is None:
                return _offline_report(self.config.library_root)
            lp, models, rows, finder = self._full_pass(library, rediscover=True)
            sites = lp.sites
            by_model: dict[str, list[LinkRecord]] = defaultdict(list)
            with database.atomic():
                for row in rows:
                    site = sites.get(row.app)
                    if site is not None and not site.online:
                        continue  # unmounted app drive: leave its links and rows alone
                    found = finder.find(row) if site is not None else None
                    if found is None:  # model gone, or app no longer configured
                        remove_row(lp, row, row.target if site is None else None)
                        continue
                    _reassign(row, *found)
                    by_model[row.model_id].append(row)
            ordered = sorted(models.values(), key=lambda m: m.rel_path)
            for start in range(0, len(ordered), BATCH):
                with database.atomic():
                    for model in ordered[start : start + BATCH]:
                        self._ensure(lp, model, _by_app(by_model.get(model.model_id, [])))
                    lp.flush()
            lp.report.models = len(models)
            self._remember(library, sites)
            return self._finish(lp, "links sync")

    def repair(self) -> dict[str, Any]:
        """Fix what check finds (the scheduled job). Returns a report with fixed/unfixed."""
        with self._lock:
            library = self.library()
            if library is None:
                log.info("library at %s is not mounted: repair waits", self.config.library_root)
                return _offline_report(self.config.library_root)
            lp, models, rows, finder = self._full_pass(library)
            sites = lp.sites
            released: set[str] = set()
            with database.atomic():
                for row in rows:
                    site = sites.get(row.app)
                    if site is None or not site.online:
                        continue  # unconfigured apps are `links sync`'s to clean up
                    found = finder.find(row)
                    if found is None:
                        remove_row(lp, row, None)
                        continue
                    model = _reassign(row, *found)
                    if fix_row(lp, site, row, model) == RELEASED:
                        released.add(model.model_id)
                lp.flush()
                for model_id in sorted(released):
                    # the path went to a real file: link the model again, suffixed or skipped
                    self._ensure(
                        lp, models[model_id], _by_app(registry.rows_for_models([model_id]))
                    )
                self._handle_orphans(lp, library, sites, finder)
                lp.flush()
            lp.report.models = len(models)
            self._remember(library, sites)
            return self._finish(lp, "links repair")

    def remove_model_links(self, model_id: str) -> int:
        """Remove the model's links (call before deleting its files). Returns how many went.

        A path that holds something else by now (a real file) is forgotten and
        left untouched.
        """
        with self._lock:
            library = self.library()
            models = load_models([model_id]) if library else {}
            model = models.get(model_id)
            # no library needed to unlink: removal checks each path against the row alone
            lp = LinkPass(library, {})  # type: ignore[arg-type]
            removed = 0
            with database.atomic():
                for row in registry.rows_for_models([model_id]):
                    target = library.target(model, row.source) if library and model else row.target
                    removed += remove_row(lp, row, target)
            return removed

    # -- helpers --------------------------------------------------------------------

    def _sites_of(self, library: Library, rediscover: bool = False) -> dict[str, AppSite]:
        fresh = self._sites_for_library != library or not self._sites
        if fresh:
            self._sites = {app.name: AppSite(app, library) for app in self.config.apps}
            self._sites_for_library = library
        for site in self._sites.values():
            if fresh or rediscover:
                site.discover(announce=rediscover)
            else:
                site.start_pass()
        return self._sites

    def _full_pass(
        self, library: Library, rediscover: bool = False
    ) -> tuple[LinkPass, dict[str, LibraryModel], list[LinkRecord], Finder]:
        """Start a pass over every link (sync, repair): moves followed, models and rows loaded."""
        sites = self._sites_of(library, rediscover=rediscover)
        old = registry.known_library_root()
        old_roots = (old,) if old and old != library.root else ()
        lp = LinkPass(library, sites)
        lp.report.relocated = self._follow_moves(library, sites, old_roots)
        models = load_models()
        rows = registry.all_rows()
        lp.load_owners(rows)
        return lp, models, rows, Finder(models, old_roots)

    def _ensure(
        self, lp: LinkPass, model: LibraryModel, rows_by_app: dict[str, list[LinkRecord]]
    ) -> None:
        sites = [site for site in lp.sites.values() if not site.error and site.online]
        if not sites:
            return  # no app to link into: no overrides.json to open either
        overrides = read_overrides(Path(lp.library.root) / model.rel_path)
        for site in sites:
            decision = decide(overrides, site.name, site.app.kind, site.version)
            ensure_model(lp, site, model, rows_by_app.get(site.name, []), decision)

    def _follow_moves(
        self, library: Library, sites: dict[str, AppSite], old_roots: tuple[str, ...]
    ) -> Relocated:
        moves: Relocated = {}
        for old in old_roots:
            log.info("library moved from %s to %s: finding its links again", old, library.root)
            moves["library"] = {"from": old, "to": library.root}
        for site in sites.values():
            if site.online:
                moved = rebase_app(site.name, site.root)
                if moved:
                    moves.setdefault("apps", {})[site.name] = moved
        return moves

    def _remember(self, library: Library, sites: dict[str, AppSite]) -> None:
        registry.remember_library_root(library.root)
        for site in sites.values():
            if site.online:
                registry.remember_app_root(site.name, site.root)

    def _handle_orphans(
        self, lp: LinkPass, library: Library, sites: dict[str, AppSite], finder: Finder
    ) -> None:
        remaining = 0
        registered = lp.registered_paths()
        for site in sites.values():
            if not site.online:
                continue
            for orphan in list(find_orphans(site, library, registered)):
                hit = adoptable(orphan, library, finder)
                if hit is not None:
                    model, source, is_dir = hit
                    lp.register(site.name, model, source, is_dir, orphan.path, SYMLINK, None)
                    lp.report.adopted += 1
                elif orphan.dangling and remove_dangling_orphan(orphan, library):
                    lp.report.removed += 1
                else:
                    remaining += 1
        registry.store_orphans(remaining)

    def _finish(self, lp: LinkPass, what: str) -> dict[str, Any]:
        report = lp.report
        report.apps = [site.describe() for site in lp.sites.values()]
        for problem in report.problems[:MAX_LOGGED_PROBLEMS]:
            log.warning("%s: %s", problem.get("path") or problem.get("app"), problem["reason"])
        if len(report.problems) > MAX_LOGGED_PROBLEMS:
            log.warning("... and %d more link problems", len(report.problems) - MAX_LOGGED_PROBLEMS)
        if report.fixed or report.created or report.unfixed or report.released:
            log.info(
                "%s: %d created, %d fixed (%d recreated, %d re-aimed, %d adopted, %d removed), "
                "%d released, %d unfixed",
                what,
                report.created,
                report.fixed,
                report.recreated,
                report.repointed,
                report.adopted,
                report.removed,
                report.released,
                report.unfixed,
            )
        return report.to_dict()


def _by_app(rows: list[LinkRecord]) -> dict[str, list[LinkRecord]]:
    grouped: dict[str, list[LinkRecord]] = defaultdict(list)
    for row in rows:
        grouped[row.app].append(row)
    return grouped


def _reassign(row: LinkRecord, model: LibraryModel, source: str) -> LibraryModel:
    """Point a row at the model/file it was found again as (after a re-import or move)."""
    if row.model_id != model.model_id or row.source != source:
        file = model.file(source)
        row.model_id, row.source = model.model_id, source
        row.blake3 = file.blake3 if file else model.blake3
        row.save()
    return model


def _offline_report(root: Path) -> dict[str, Any]:
    log.info("library at %s is not mounted: links left as they are", root)
    return LinkReport(library="offline").to_dict()
