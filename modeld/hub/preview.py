"""Which image of a confirmed repo becomes the model's preview, and what it is called.

Pure functions: the enricher fetches the chosen file and the importer's
attach step files it beside the weights as `<stem>.preview.<ext>`, the name
ComfyUI's preview extensions look for.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from modeld.hub.repos import RepoFileInfo

MAX_PREVIEW_BYTES = 8 * 1024 * 1024  # model cards show screenshots, not posters
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
PREVIEW_WORDS = ("preview", "sample", "example", "showcase", "thumbnail", "cover")

# the bytes decide, not the name: a repo's "preview.png" may be an LFS pointer or HTML
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
)


def pick_preview(files: Sequence[RepoFileInfo], matched_path: str) -> str | None:
    """The repo image that best shows the matched file, or None.

    First an image named after the matched file (`x.preview.png`, `x.png`),
    then one whose name says it is a preview or sample, then any image;
    shallower paths first, as the card's own images sit at the top.
    """
    stem = posixpath.basename(matched_path).rsplit(".", 1)[0].lower()

    def rank(path: str) -> tuple[int, int, str]:
        name = posixpath.basename(path).lower()
        if name.startswith(f"{stem}."):
            kind = 0
        elif any(word in name for word in PREVIEW_WORDS):
            kind = 1
        else:
            kind = 2
        return (kind, path.count("/"), path)

    images = [
        f.path
        for f in files
        if f.path.lower().endswith(IMAGE_SUFFIXES)
        and f.size is not None
        and 0 < f.size <= MAX_PREVIEW_BYTES
    ]
    return min(images, key=rank) if images else None


def image_suffix(data: bytes) -> str | None:
    """The suffix the bytes are (PNG, JPEG, WebP), or None for anything else."""
    for magic, suffix in _MAGIC:
        if data.startswith(magic):
            return suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


def preview_name(weights_name: str, suffix: str) -> str:
    """`ink.safetensors` + `.png` → `ink.preview.png`."""
    stem = posixpath.basename(weights_name).rsplit(".", 1)[0]
    return f"{stem}.preview{suffix}"
