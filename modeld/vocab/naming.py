"""Names that are safe on NTFS, ext4 and APFS alike (pure functions).

The official name stays as-is in metadata.json; these are only for the
folder and file names modeld creates.

Any name the OS hands over is accepted, as Python gives it (`os.fsdecode`):
bytes that are not UTF-8 arrive as lone surrogates (U+DC80..U+DCFF) and
become '_' here, like control characters and the characters Windows forbids.
`display_name` is the same name as text a person can read and every encoder
accepts.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Container, Iterable

MAX_COMPONENT_CHARS = 128
# ext4 allows 255 bytes per component, NTFS 255 UTF-16 units: stay under both,
# with room for what modeld appends to a name it made: an atomic write's
# '.NAME.XXXXXXXX.tmp', a quarantine record's '.quarantine.json' beside that,
# a link's '.NAME.modeld-PID.tmp'.
NAME_MAX = 255
SUFFIX_ROOM = 32
MAX_COMPONENT_BYTES = NAME_MAX - SUFFIX_ROOM

# lone surrogates: the bytes of a name that is not UTF-8, as os.fsdecode keeps them
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\ud800-\udfff]')
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
_RESERVED_STEMS = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{prefix}{n}" for prefix in ("COM", "LPT") for n in [*"0123456789", "¹", "²", "³"]]
)


def is_text(name: str) -> bool:
    """Is `name` valid Unicode text (its bytes were UTF-8)?"""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def display_name(name: str) -> str:
    """`name` for people and logs: bytes that are not UTF-8 as '\\xff', control
    characters as '\\n' or '\\x01', so it is one line any encoder accepts."""
    if not is_text(name):
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda match: repr(match.group())[1:-1], name)


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


def safe_relative_names(names: Iterable[str], fallback: str = "file") -> dict[str, str]:
    """{'/'-separated name: its safe form}, every part made safe, no two alike.

    Two names that differ only in what `safe_component` replaces ('a\\x01.json',
    'a\\x02.json' -> 'a_.json') or only in case would overwrite each other in
    one model folder: the later ones get a tag from a hash of their original
    bytes, the same on every machine.
    """
    chosen: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(names, key=os.fsencode):
        *folders, leaf = [safe_component(part, fallback) for part in name.split("/")]
        prefix = "".join(f"{folder}/" for folder in folders)
        if collision_key(prefix + leaf) in taken:
            key = collision_key(prefix)
            siblings = {k[len(key) :] for k in taken if k.startswith(key)}
            tag = hashlib.blake2b(os.fsencode(name), digest_size=8).hexdigest()
            leaf = unique_component(leaf, siblings, tag)
        taken.add(collision_key(prefix + leaf))
        chosen[name] = prefix + leaf
    return chosen


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
