"""Whole-component path containment, shared by watch, ingest and links (pure, no I/O).

`/media/usb` contains `/media/usb/a` but not `/media/usb2/a`: a plain prefix
test gets that wrong, the mistake that made other link tools rewrite a
sibling drive's links.
"""

from __future__ import annotations

import os


def is_within(path: str, root: str) -> bool:
    """`path` is `root` itself or lies below it (whole components only)."""
    root = root.rstrip(os.sep) or os.sep
    if path == root:
        return True
    prefix = root if root.endswith(os.sep) else root + os.sep
    return path.startswith(prefix)
