"""Folders a watch must not look into (the library itself, when it lies in a drop folder).

Events arrive spelled under the watch root as configured, while an excluded
folder may be configured through another spelling (a symlink, the resolved
path); so each is turned into the root's spelling once, when the watch
starts, and matching an event is then a plain prefix test.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from modeld.vocab.paths import is_within


def exclusions_under(root: Path, exclude: Sequence[Path]) -> list[str]:
    """The excluded folders that lie inside `root`, spelled under `root` as configured."""
    real_root = os.path.realpath(root)
    out = []
    for folder in exclude:
        real = os.path.realpath(folder)
        if is_within(real, real_root):
            out.append(str(root / os.path.relpath(real, real_root)))
        text = str(folder)
        if text != str(root) and is_within(text, str(root)) and text not in out:
            out.append(text)
    return out


def under_any(path: str, folders: Sequence[str]) -> bool:
    return any(is_within(path, folder) for folder in folders)
