"""What sniffing says about a file: `Sniffed`, `Refused` or `Dangerous`.

Kept apart from the package's `__init__` so that the parsers, which build
these results, never import the package that imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
