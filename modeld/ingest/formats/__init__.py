"""Content sniffing: what a file really is, from its bytes, never its name.

`sniff(path)` returns one of three values:
- `Sniffed`: a known format, with the parsed header facts identification needs;
- `Refused`: not a model file, or a broken one (with `retry=True` when it
  looks truncated, i.e. possibly still being written);
- `Dangerous`: a pickle whose imports could run code (goes to quarantine).

Nothing is ever executed or unpickled, and every length or count read from
a file is checked against the file's size and a cap before it is used.
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
    format: str  # safetensors | gguf | pickle | onnx
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    reason: str
    retry: bool = False  # looks truncated: may still be downloading


@dataclass(frozen=True)
class Dangerous:
    reason: str
    imports: tuple[str, ...] = ()


SniffResult = Sniffed | Refused | Dangerous


def sniff(path: Path) -> SniffResult:
    from modeld.ingest.formats.detect import sniff_file

    return sniff_file(path)


def inspect_unit(unit: ImportUnit) -> SniffResult:
    """Sniff every weights file of a unit; the unit is as good as its worst file."""
    results = [sniff(f.path) for f in unit.files if f.role == "weights"]
    for result in results:
        if not isinstance(result, Sniffed):
            return result
    return sniff(unit.primary.path)
