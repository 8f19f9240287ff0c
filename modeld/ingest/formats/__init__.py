"""Content sniffing: what a file really is, from its bytes, never its name.

`sniff(path)` returns one of three values:
- `Sniffed`: a known format, with the parsed header facts identification needs;
- `Refused`: not a model file, or a broken one (with `retry=True` when it
  looks truncated, i.e. possibly still being written);
- `Dangerous`: a pickle whose imports could run code (goes to quarantine).

Nothing is ever executed or unpickled, and every length or count read from
a file is checked against the file's size and a cap before it is used.

`Sniffed.details` carries, depending on the format (all optional):
- ``tensors``: tuple of ``(name, dtype, shape)``; dtype in the safetensors
  vocabulary (``F16``, ``BF16``, ``F8_E4M3``...) or a ggml type for GGUF
  (``Q4_K``, ``F32``...);
- ``metadata``: the safetensors ``__metadata__`` strings;
- ``kv``: GGUF key/values (everything but ``tokenizer.*``; big arrays left out);
- ``names`` / ``storages``: strings and storage types found in a pickle's
  opcodes (tensor names without unpickling; storage types give the dtype);
- ``config`` / ``adapter_config``: a companion ``config.json``
  (transformers/diffusers) or PEFT ``adapter_config.json``;
- ``pipeline`` / ``components``: a diffusers folder's ``model_index.json`` and
  per-component ``{"format", "tensors", "config"}``;
- ``files``: how many weights files were read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modeld.ingest.units import ImportUnit


@dataclass(frozen=True)
class Sniffed:
    format: str  # safetensors | gguf | pickle | onnx | diffusers
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    reason: str
    retry: bool = False  # looks truncated: may still be downloading


@dataclass(frozen=True)
class Dangerous:
    reason: str
    imports: tuple[str, ...] = ()
    # the file that holds the dangerous pickle (in a multi-file unit it need
    # not be the unit's primary file); None when the unit has one file
    path: Path | None = None


SniffResult = Sniffed | Refused | Dangerous


class Malformed(Exception):
    """Raised by the format parsers; `sniff` turns it into a `Refused`."""

    def __init__(self, reason: str, *, retry: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def sniff(path: Path) -> SniffResult:
    from modeld.ingest.formats.detect import sniff_file

    return sniff_file(path)


def inspect_unit(unit: ImportUnit) -> SniffResult:
    """Sniff every weights file of a unit; the unit is as good as its worst file."""
    from modeld.ingest.formats.combine import inspect

    return inspect(unit)
