"""Which names in a drop folder are finished files, and which belong to downloads in progress.

Pure functions over paths. Download tools write somewhere else first and rename
at the end, so a temporary name is never a candidate; its rename to the final
name is the real arrival (see settle.py).

- Suffixes: `.part` (Firefox, wget2, many), `.partial`, `.crdownload` (Chrome,
  Edge), `.download` (Safari: a directory bundle), `.opdownload` (Opera),
  `.tmp`/`.temp`, `.incomplete` (huggingface_hub), `.!qB` (qBittorrent),
  `.!ut` (uTorrent), `.filepart` (WinSCP).
- Hidden names (a leading dot) anywhere below the watch root: rsync writes
  `.<name>.XXXXXX` (and `.~tmp~/` with --delay-updates, `.rsync-partial/`),
  GIO writes `.goutputstream-XXXXXX`, macOS leaves `._name` AppleDouble files
  on foreign drives, and trash folders (`.Trash-1000`) are hidden too. No model
  arrives under a hidden name, so skipping them all is safer than listing them.
- aria2 preallocates the full size and keeps `<name>.aria2` next to the data
  until the download is complete: that control file is a SIDECAR, and its
  target is not ready while it exists.
- System folders of removable drives (`$RECYCLE.BIN`, `System Volume
  Information`, `lost+found`) are never descended into.
"""

from __future__ import annotations

import enum
from pathlib import Path, PurePath

TEMP_SUFFIXES = (
    ".part",
    ".partial",
    ".crdownload",
    ".download",
    ".opdownload",
    ".tmp",
    ".temp",
    ".incomplete",
    ".!qb",
    ".!ut",
    ".filepart",
)
SIDECAR_SUFFIX = ".aria2"
SYSTEM_DIRS = frozenset({"$recycle.bin", "system volume information", "lost+found"})


class NameKind(enum.Enum):
    CANDIDATE = "candidate"  # may become ready once settled
    TEMPORARY = "temporary"  # a download in progress under a temporary name
    SIDECAR = "sidecar"  # a download manager's control file; blocks its target
    IGNORED = "ignored"  # hidden, inside a temp bundle, a system folder, or outside the root


def is_temporary_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(TEMP_SUFFIXES)


def is_ignored_component(name: str) -> bool:
    """A path component that hides everything below it (a folder) or itself (a file)."""
    return name.startswith(".") or name.lower() in SYSTEM_DIRS


def is_ignored_dir(name: str) -> bool:
    """A folder the scan never descends into (a Safari `.download` bundle is one)."""
    return is_ignored_component(name) or name.lower().endswith(TEMP_SUFFIXES)


def classify(path: PurePath, root: PurePath) -> NameKind:
    """What `path` (somewhere below the watch `root`) is, judged by its name alone."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return NameKind.IGNORED
    if not parts:
        return NameKind.IGNORED
    *folders, name = parts
    if any(is_ignored_dir(folder) for folder in folders):
        return NameKind.IGNORED
    if is_ignored_component(name):
        return NameKind.IGNORED
    if name.lower().endswith(SIDECAR_SUFFIX) and len(name) > len(SIDECAR_SUFFIX):
        return NameKind.SIDECAR
    if is_temporary_name(name):
        return NameKind.TEMPORARY
    return NameKind.CANDIDATE


def sidecar_target(path: Path) -> Path:
    """`x.safetensors.aria2` -> `x.safetensors` (call only for a SIDECAR)."""
    return path.with_name(path.name[: -len(SIDECAR_SUFFIX)])


def sidecar_of(path: Path) -> Path:
    """The aria2 control file that would block `path`."""
    return path.with_name(path.name + SIDECAR_SUFFIX)
