"""Dispatch on the leading bytes to the right format parser.

The extension is never trusted: a file is what its bytes say. When the bytes
say "not a model", the refusal names what they are instead (an HTML page, a
Git LFS pointer, a legacy GGML file...), since that tells the user what went
wrong with the download.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, BinaryIO

from modeld.ingest.formats.gguf import MAGIC as GGUF_MAGIC
from modeld.ingest.formats.gguf import read_gguf
from modeld.ingest.formats.onnx import looks_like_onnx, read_onnx
from modeld.ingest.formats.pickles import (
    looks_like_pickle,
    looks_like_zip,
    read_raw_pickle,
    read_torch_zip,
    starts_a_pickle,
)
from modeld.ingest.formats.results import Dangerous, Refused, Sniffed, SniffResult
from modeld.ingest.formats.safetensors import looks_like_safetensors, read_safetensors
from modeld.vocab.reads import TRANSIENT_ERRNOS, Malformed, open_regular

log = logging.getLogger(__name__)

HEAD_BYTES = 512
# how much of a file the pickle walk may read to decide whether it is one
PICKLE_PROBE_BYTES = 1 << 20
SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"


def sniff_file(path: Path) -> SniffResult:
    try:
        handle, size = open_regular(path)
    except Malformed as exc:
        return Refused(exc.reason, retry=exc.retry)
    with handle:
        try:
            return sniff_handle(handle, size, path.name)
        except Malformed as exc:
            return Refused(exc.reason, retry=exc.retry)
        except OSError as exc:
            return Refused(
                f"cannot read: {exc.strerror or exc}", retry=exc.errno in TRANSIENT_ERRNOS
            )
        except Exception:  # a parser bug must not stop the daemon
            log.exception("unexpected error while sniffing %s", path)
            return Refused("could not parse this file (internal error; see the log)")


def sniff_handle(handle: BinaryIO, size: int, name: str) -> SniffResult:
    """What the bytes are; raises Malformed for a broken file of a known format."""
    if size == 0:
        return Refused("empty file (0 bytes)")
    head = handle.read(HEAD_BYTES)
    handle.seek(0)
    if head.startswith(GGUF_MAGIC):
        return Sniffed("gguf", read_gguf(handle, size))
    if looks_like_safetensors(head):
        return Sniffed("safetensors", read_safetensors(handle, size))
    if looks_like_zip(head):
        return _pickle_result(read_torch_zip(handle, size, name))
    if looks_like_pickle(head):
        return _pickle_result(read_raw_pickle(handle, size, name))
    if looks_like_onnx(head):
        return Sniffed("onnx", read_onnx(handle, size))
    if head.startswith(SEVEN_ZIP_MAGIC):
        # picklescan is asked to look inside 7z archives because pickles are
        # shipped in them; modeld cannot, so it cannot vouch for one
        return Dangerous(
            "a 7z archive, which cannot be verified: it may hold a pickle, and modeld cannot "
            "look inside it (unpack it and drop the files themselves)"
        )
    if _starts_a_pickle(handle, size):
        return _pickle_result(read_raw_pickle(handle, size, name))
    return Refused(_unknown_reason(head, name))


def _pickle_result(result: dict[str, Any] | Dangerous) -> SniffResult:
    return result if isinstance(result, Dangerous) else Sniffed("pickle", result)


def _starts_a_pickle(handle: BinaryIO, size: int) -> bool:
    """Protocols 0 and 1 have no header: a bounded opcode walk decides."""
    window = handle.read(min(size, PICKLE_PROBE_BYTES))
    handle.seek(0)
    return starts_a_pickle(window)


_NAMED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"lmgg", "a legacy GGML file (before GGUF); convert it to GGUF"),
    (b"fmgg", "a legacy GGMF file (before GGUF); convert it to GGUF"),
    (b"tjgg", "a legacy GGJT file (before GGUF); convert it to GGUF"),
    (b"algg", "a legacy GGLA file (before GGUF); convert it to GGUF"),
    (b"\x1f\x8b", "a gzip archive; unpack it first"),
    (b"Rar!\x1a\x07", "a RAR archive; unpack it first"),
    (b"BZh", "a bzip2 archive; unpack it first"),
    (b"\xfd7zXZ\x00", "an xz archive; unpack it first"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive; unpack it first"),
    (b"\x93NUMPY", "a NumPy array file, not a supported model format"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras .h5), not a supported model format"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image, not a model"),
    (b"\xff\xd8\xff", "a JPEG image, not a model"),
    (b"RIFF", "a RIFF (WebP/WAV) file, not a model"),
    (b"GIF8", "a GIF image, not a model"),
    (b"%PDF", "a PDF document, not a model"),
    (b"\x7fELF", "an executable (ELF), not a model"),
    (b"MZ", "a Windows executable, not a model"),
)


def _unknown_reason(head: bytes, name: str) -> str:
    what = _what_it_is(head)
    suffix = Path(name).suffix.lower()
    if suffix in (".safetensors", ".gguf", ".ckpt", ".pt", ".pth", ".bin", ".onnx", ".sft"):
        return f"{what}, although it is named {suffix}"
    return what


def _what_it_is(head: bytes) -> str:
    for magic, description in _NAMED_MAGIC:
        if head.startswith(magic):
            return description
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:200]:
        return "an HTML page, not a model (a login or error page saved under the model's name?)"
    if text.startswith(b"<?xml"):
        return "an XML document, not a model"
    if text.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer, not the model's bytes (fetch the file itself, e.g. git lfs pull)"
    if text.startswith((b"{", b"[")):
        return "JSON text, not a model"
    if _is_text(head):
        return "a text file, not a model"
    if len(head) < 16:
        return f"too short to be a model ({len(head)} bytes)"
    return f"unknown format (starts with {head[:8].hex(' ')})"


def _is_text(head: bytes) -> bool:
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        # the window may cut a multi-byte character at its end
        try:
            decoded = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in decoded)
