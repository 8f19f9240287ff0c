"""Group the files found under the given paths into import units (`units`).

Which names are weights or companions is `vocab.filenames`; which entries
may be read at all is `entries`.

Rules, in the order they apply:
- Directory symlinks are never followed. A file symlink is used only when it
  resolves to a regular file inside `boundary` (the drop folder; for a
  direct import without one, the folder being imported). Outside, dangling,
  or pointing at a folder: a Problem, never followed into the library.
- FIFOs, devices and sockets are Problems; they are never opened.
- No name is refused: bytes that are not UTF-8, newlines, control
  characters all plan like any other name (the contract's promise). The
  library stores them under a safe name (`naming`) and metadata.json keeps
  the original (`metadata`).
- Hidden files and folders (".name") are skipped: download tools and rsync
  write their in-progress files there, and `.git`/`.cache` are not models.
- A folder holding ``model_index.json`` is one diffusers unit with every file
  under it (names relative to the folder); a file planned on its own that
  lives inside such a folder plans the whole folder.
- ``base-0000k-of-0000N.ext`` files with the same base, extension and N are
  one sharded unit with ``base.ext.index.json``; a missing shard makes the set
  a retry Problem that names what is missing.
- Companions (previews, .yaml, .civitai.info, same-stem .json/.txt sidecars)
  attach to the model whose stem they share. In a folder that is not the
  drop folder and holds exactly one model, every companion-type file
  (config.json, tokenizer files, README) goes with that model: it is the
  model's own folder. A file named on its own (the CLI's `import FILE`, or a
  file in the drop folder itself) brings only the siblings named like it.
  A companion with no model beside it is a "companion" unit of its own: the
  importer attaches it to the library model it is named after, if one is.
  A name without an extension (README, LICENSE) alone is a Problem.
- A file planned on its own is planned with its folder as context (its shard
  set, its companions) but only its own unit is returned.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from modeld.ingest.entries import file_problem, symlink_problem, walk_all
from modeld.ingest.listings import Listings, related_names
from modeld.ingest.units import ImportUnit, Problem, UnitFile, companion_unit
from modeld.vocab.filenames import (
    DIFFUSERS_INDEX,
    INDEX_SUFFIX,
    SHARD,
    candidate_stems,
    is_companion_name,
    is_generic_stem,
    is_weights_name,
)
from modeld.vocab.paths import is_within
from modeld.vocab.reads import MAX_INDEX_BYTES, file_kind, read_optional_json

# how far up from a lone file to look for the diffusers folder it belongs to
DIFFUSERS_DEPTH = 3


def plan_units(
    paths: Iterable[Path], *, boundary: Path | None = None, listings: Listings | None = None
) -> tuple[list[ImportUnit], list[Problem]]:
    """Units under `paths`; `boundary` is the drop folder symlinks must not leave;
    `listings` are kept across the watch's plans (a set that has to wait is planned
    again from fresh ones: it may be complete by now; a companion waits for its
    model, which the listing was checked to hold)."""
    units, problems = _plan(paths, boundary, listings)
    if listings is not None and any(p.retry and p.owner is None for p in problems):
        listings.clear()
        units, problems = _plan(paths, boundary, listings)
    return units, problems


def _plan(
    paths: Iterable[Path], boundary: Path | None, listings: Listings | None
) -> tuple[list[ImportUnit], list[Problem]]:
    planner = _Planner(Path(os.path.abspath(boundary)) if boundary is not None else None, listings)
    # models first, so a companion given alongside its model is claimed, not orphaned
    for root in sorted((Path(os.path.abspath(p)) for p in paths), key=_companions_last):
        planner.add_root(root)
    return planner.units, planner.problems


def _companions_last(path: Path) -> tuple[bool, str]:
    return (is_companion_name(path.name), str(path))


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


@dataclass
class _Group:
    """One would-be unit inside one folder, by file names only."""

    kind: str
    stem: str
    weights: list[str]
    companions: list[str] = field(default_factory=list)


class _Planner:
    def __init__(self, boundary: Path | None, listings: Listings | None):
        self.boundary = boundary
        self.listings = listings
        self.units: list[ImportUnit] = []
        self.problems: list[Problem] = []
        self._claimed: set[Path] = set()
        self._seen_problems: set[tuple[Path, str]] = set()

    # -- entry --------------------------------------------------------------

    def problem(
        self, path: Path, reason: str, retry: bool = False, owner: Path | None = None
    ) -> None:
        if (path, reason) not in self._seen_problems:
            self._seen_problems.add((path, reason))
            self.problems.append(Problem(path, reason, retry, owner))
            self._claimed.add(path)

    def add_root(self, root: Path) -> None:
        if root in self._claimed:
            return
        try:
            info = root.lstat()
        except FileNotFoundError:
            self.problem(root, "no longer exists")
            return
        except OSError as exc:
            self.problem(root, f"cannot read: {exc.strerror}", retry=True)
            return
        limit = self.boundary
        if stat.S_ISLNK(info.st_mode):
            if self.boundary is None:
                if not root.exists():
                    self.problem(root, f"dangling symlink (to {os.path.realpath(root)})")
                    return
                self.add_root(_real(root))  # named explicitly by the user: follow it
                return
            if reason := symlink_problem(root, self.boundary):
                self.problem(root, reason)
                return
            info = os.stat(root)
            if stat.S_ISDIR(info.st_mode):
                self.problem(root, "symlink to a folder; folder links are not followed")
                return
        if stat.S_ISDIR(info.st_mode):
            limit = self.boundary or root
            if (root / DIFFUSERS_INDEX).is_file():
                self._diffusers(root, limit)
            else:
                self._walk(root, limit)
        elif stat.S_ISREG(info.st_mode):
            folder = self._enclosing_diffusers(root.parent)
            if folder is not None:
                self._diffusers(folder, self.boundary or folder)
            else:
                limit = self.boundary or root.parent
                self._plan_folder(root.parent, self._siblings(root), limit, only=root.name)
        else:
            self.problem(root, f"not a regular file ({file_kind(info.st_mode)})")

    def _siblings(self, root: Path) -> list[str]:
        """The names `root` is planned with: in a drop folder or a shared one
        (~/Downloads, a file named on the command line) only those named like it."""
        try:
            if self.boundary is not None and root.parent != self.boundary:
                return os.listdir(root.parent)  # the model's own folder: all of it
            if self.listings is not None:
                return self.listings.related(root.parent, root.name)
            return related_names(root.name, os.listdir(root.parent))
        except OSError:  # an unlistable folder: the file is planned on its own
            return [root.name]

    def _enclosing_diffusers(self, folder: Path) -> Path | None:
        for _ in range(DIFFUSERS_DEPTH):
            if (folder / DIFFUSERS_INDEX).is_file():
                return folder
            if folder == self.boundary or folder.parent == folder:
                return None
            if self.boundary is not None and not is_within(str(folder.parent), str(self.boundary)):
                return None
            folder = folder.parent
        return None

    # -- walking ------------------------------------------------------------

    def _walk(self, root: Path, limit: Path) -> None:
        def on_error(exc: OSError) -> None:
            self.problem(Path(exc.filename or root), f"cannot read folder: {exc.strerror}", True)

        for folder_name, dirs, files in os.walk(root, onerror=on_error, followlinks=False):
            folder = Path(folder_name)
            if folder != root and DIFFUSERS_INDEX in files:
                dirs[:] = []
                self._diffusers(folder, limit)
                continue
            kept = []
            for name in sorted(dirs):
                path = folder / name
                if name.startswith("."):
                    continue
                if path.is_symlink():
                    target = os.path.realpath(path)
                    if not is_within(target, str(_real(limit))):
                        self.problem(path, f"symlink to {target}, outside {limit}; not followed")
                    # a link to a folder inside the boundary is walked there, not here
                else:
                    kept.append(name)
            dirs[:] = kept
            self._plan_folder(folder, files, limit, only=None)

    def _diffusers(self, folder: Path, limit: Path) -> None:
        if folder in self._claimed:
            return
        self._claimed.add(folder)
        files: list[UnitFile] = []
        for path in walk_all(folder):
            rel = path.relative_to(folder).as_posix()
            if reason := file_problem(path, limit):
                self.problem(folder, f"diffusers folder {folder.name}: {rel}: {reason}")
                return
            role = "weights" if is_weights_name(rel) else "companion"
            files.append(UnitFile(path, rel, role))
        if not any(f.role == "weights" for f in files):
            self.problem(folder, "diffusers folder without any weights file (yet)", retry=True)
            return
        self._claimed.update(f.path for f in files)
        self.units.append(ImportUnit("diffusers", folder.name, tuple(files)))

    # -- one folder's files -------------------------------------------------

    def _plan_folder(
        self, folder: Path, names: Iterable[str], limit: Path | None, only: str | None
    ) -> None:
        visible = [n for n in sorted(names) if not n.startswith(".") or n == only]
        groups, leftovers = self._group(folder, visible, only)
        self._attach_companions(folder, groups, leftovers)
        for group in groups:
            if only is None or only in group.weights:
                self._emit(folder, group, limit)
            elif only in group.companions:
                owner = group.weights[0]
                reason = f"companion of {owner}; it moves with that model"
                self.problem(folder / only, reason, retry=True, owner=folder / owner)
        for name in leftovers:
            if only is not None and name != only:
                continue
            if candidate_stems(name) and folder / name not in self._claimed:
                # perhaps a late preview of a library model: the importer looks
                self._claimed.add(folder / name)
                self.units.append(companion_unit(folder / name))
            else:
                self.problem(folder / name, f"not a model file ({name}), and no model beside it")

    def _group(
        self, folder: Path, names: list[str], only: str | None
    ) -> tuple[list[_Group], list[str]]:
        """Shard sets, single models and the companion-type files left over."""
        groups: list[_Group] = []
        leftovers: list[str] = []
        sets: dict[tuple[str, str], dict[int, dict[int, str]]] = {}
        for name in names:
            match = SHARD.match(name)
            if match and not is_companion_name(name):
                key = (match["base"], match["ext"].lower())
                sets.setdefault(key, {}).setdefault(int(match["total"]), {})[
                    int(match["index"])
                ] = name
            elif is_companion_name(name):
                leftovers.append(name)
            else:
                groups.append(_Group("file", _stem(name), [name]))
        for (base, ext), by_total in sorted(sets.items()):
            group = self._shard_group(folder, base, ext, by_total, leftovers, only)
            if group is not None:
                groups.append(group)
        return groups, leftovers

    def _shard_group(
        self,
        folder: Path,
        base: str,
        ext: str,
        by_total: dict[int, dict[int, str]],
        leftovers: list[str],
        only: str | None,
    ) -> _Group | None:
        names = sorted(n for shards in by_total.values() for n in shards.values())
        index_name = next(
            (n for n in leftovers if n.lower() == f"{base}.{ext}{INDEX_SUFFIX}".lower()), None
        )
        members = [*names, *([index_name] if index_name else [])]
        relevant = only is None or only in members
        if len(by_total) > 1:
            if relevant:
                totals = " and ".join(f"-of-{t}" for t in sorted(by_total))
                for name in names:
                    self.problem(
                        folder / name, f"shards of {base}.{ext} disagree on the set size ({totals})"
                    )
            return None
        total, shards = next(iter(by_total.items()))
        bad = sorted(i for i in shards if not 1 <= i <= total)
        if bad:
            if relevant:
                self.problem(
                    folder / shards[bad[0]], f"shard number {bad[0]} is outside 1..{total}"
                )
            return None
        if index_name:
            leftovers.remove(index_name)
        missing = [i for i in range(1, total + 1) if i not in shards]
        if missing:
            if relevant:
                width = len(next(iter(shards.values())).rsplit("-of-", 1)[1].split(".")[0])
                example = f"{base}-{missing[0]:0{width}d}-of-{total:0{width}d}.{ext}"
                shown = ", ".join(str(i) for i in missing[:10]) + (
                    " ..." if len(missing) > 10 else ""
                )
                self.problem(
                    folder / shards[min(shards)],
                    f"incomplete shard set {base}-*-of-{total}.{ext}: {len(shards)} of {total} "
                    f"present, missing {shown} (e.g. {example}); the set waits for them",
                    retry=True,
                )
                self._claimed.update(folder / n for n in members)
            return None
        if index_name and (stray := self._index_strays(folder / index_name, set(names))):
            if relevant:
                self.problem(
                    folder / index_name,
                    f"{index_name} lists {len(stray)} files not here yet (e.g. {stray[0]}); "
                    "the set waits for them",
                    retry=True,
                )
            return None
        if total == 1:
            return _Group("file", base, names, [index_name] if index_name else [])
        return _Group("sharded", base, names, [index_name] if index_name else [])

    @staticmethod
    def _index_strays(index: Path, names: set[str]) -> list[str]:
        document = read_optional_json(index, MAX_INDEX_BYTES) or {}
        weight_map = document.get("weight_map")
        if not isinstance(weight_map, dict):
            return []  # the inspection step reports a broken index
        return sorted({str(v) for v in weight_map.values()} - names)

    def _attach_companions(self, folder: Path, groups: list[_Group], leftovers: list[str]) -> None:
        by_stem: dict[str, _Group] = {}
        for group in groups:
            by_stem.setdefault(group.stem, group)
            for weights in group.weights:
                by_stem.setdefault(weights, group)
        for name in list(leftovers):
            for stem in candidate_stems(name):
                if stem in by_stem:
                    by_stem[stem].companions.append(name)
                    leftovers.remove(name)
                    break
        if len(groups) == 1 and folder != self.boundary and leftovers:
            # the model's own folder: its configs and tokenizer go with it
            groups[0].companions.extend(leftovers)
            leftovers.clear()

    def _emit(self, folder: Path, group: _Group, limit: Path | None) -> None:
        if any(folder / n in self._claimed for n in group.weights):
            return
        files: list[UnitFile] = []
        for name in group.weights:
            path = folder / name
            if reason := file_problem(path, limit):
                self.problem(path, reason)
                return
            files.append(UnitFile(path, name, "weights"))
        for name in group.companions:
            path = folder / name
            if path in self._claimed:
                continue
            if reason := file_problem(path, limit):
                self.problem(path, reason)  # the model goes on without this companion
                continue
            files.append(UnitFile(path, name, "companion"))
        self._claimed.update(f.path for f in files)
        self.units.append(ImportUnit(group.kind, self._unit_name(folder, group.stem), tuple(files)))

    def _unit_name(self, folder: Path, stem: str) -> str:
        if is_generic_stem(stem) and folder != self.boundary:
            return folder.name
        return stem


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name[1:] else name
