"""Path arithmetic for links (pure string functions, no file system access).

Every prefix test goes component by component: `/media/usb` contains
`/media/usb/a` but not `/media/usb2/a`, the mistake that made other link tools
rewrite a sibling drive's links.
"""

from __future__ import annotations

import os

from modeld.vocab.paths import is_within


def relative_within(path: str, root: str) -> str | None:
    """`path` relative to `root` ('' for root itself), or None when it lies outside."""
    if not is_within(path, root):
        return None
    root = root.rstrip(os.sep) or os.sep
    return path[len(root) :].lstrip(os.sep)


def rebase(path: str, old_root: str, new_root: str) -> str | None:
    """`path` moved from under `old_root` to under `new_root`, or None if it was not under it."""
    rest = relative_within(path, old_root)
    if rest is None:
        return None
    return join(new_root, rest)


def join(base: str, *parts: str) -> str:
    """Join '/'-separated relative parts onto `base`, skipping empty ones."""
    for part in parts:
        if part:
            base = os.path.join(base, *part.split("/"))
    return base


def link_text(target: str, link_dir: str, relative: bool) -> str:
    """What to store in a symlink in `link_dir` that reaches `target`.

    Both paths must be fully resolved (realpath): a relative link is resolved
    by the kernel from the link's real folder, so a relative path computed
    from a spelling that goes through a symlinked folder would miss.
    """
    return os.path.relpath(target, link_dir) if relative else target


def resolve_text(link_dir: str, text: str) -> str:
    """Where a symlink with `text` in `link_dir` points, normalised lexically."""
    return os.path.normpath(text if os.path.isabs(text) else os.path.join(link_dir, text))
