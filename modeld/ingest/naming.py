"""Names that are safe on NTFS, ext4 and APFS alike (pure functions).

The official name stays as-is in metadata.json; these are only for the
folder and file names modeld creates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container

MAX_COMPONENT_CHARS = 128
# ext4 allows 255 bytes per component, NTFS 255 UTF-16 units: stay under both.
MAX_COMPONENT_BYTES = 240

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED_STEMS = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{prefix}{n}" for prefix in ("COM", "LPT") for n in [*"0123456789", "¹", "²", "³"]]
)


def split_extension(name: str) -> tuple[str, str]:
    """('Model.Q4_K_M', '.gguf'): only the last suffix is the extension."""
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1 or len(name) - dot > 16 or " " in name[dot:]:
        return name, ""
    return name[:dot], name[dot:]


def safe_component(name: str, fallback: str = "model") -> str:
    """One path component that every common file system accepts."""
    name = unicodedata.normalize("NFC", name)
    stem, ext = split_extension(name)
    ext = _FORBIDDEN.sub("_", ext)
    stem = _FORBIDDEN.sub("_", stem).strip(" ")
    stem = stem.rstrip(". ")
    if not stem.strip("._ "):
        stem = fallback
    if stem.split(".")[0].upper().rstrip(" ") in _RESERVED_STEMS:
        stem = f"{stem}_"
    stem = _truncate(stem, MAX_COMPONENT_CHARS - len(ext), MAX_COMPONENT_BYTES - len(ext.encode()))
    return (stem.rstrip(". ") or fallback) + ext


def _truncate(text: str, max_chars: int, max_bytes: int) -> str:
    text = text[: max(max_chars, 1)]
    while len(text.encode()) > max_bytes and text:
        text = text[:-1]
    return text


def collision_key(name: str) -> str:
    """Names equal under this key collide on case-insensitive file systems."""
    return unicodedata.normalize("NFC", name).casefold()


def with_suffix_tag(name: str, tag: str) -> str:
    """'model.safetensors' + 'a1b2' -> 'model-a1b2.safetensors', still within the caps."""
    stem, ext = split_extension(name)
    room = MAX_COMPONENT_CHARS - len(ext) - len(tag) - 1
    stem = _truncate(stem, room, MAX_COMPONENT_BYTES - len(ext.encode()) - len(tag) - 1)
    return f"{stem}-{tag}{ext}"


def unique_component(name: str, taken: Container[str], distinguisher: str) -> str:
    """`name`, or a short distinct variant when a case-insensitive twin is taken.

    `taken` holds `collision_key`s. The suffix comes from the content hash, so
    the same content gets the same name on every machine.
    """
    if collision_key(name) not in taken:
        return name
    for length in (4, 8, 16, len(distinguisher)):
        candidate = with_suffix_tag(name, distinguisher[:length])
        if collision_key(candidate) not in taken:
            return candidate
    counter = 2
    while collision_key(candidate := with_suffix_tag(name, f"{distinguisher}-{counter}")) in taken:
        counter += 1
    return candidate
