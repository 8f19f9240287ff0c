"""The facts the rules read, gathered once from a unit and its sniffed header."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modeld.ingest.formats import Sniffed
from modeld.ingest.units import ImportUnit

Tensor = tuple[str, str, tuple[int, ...]]


@dataclass(frozen=True)
class Facts:
    format: str
    names: tuple[str, ...]  # tensor names (or, for pickles, strings found in the opcodes)
    shapes: Mapping[str, tuple[int, ...]]
    dtypes: Mapping[str, int]  # dtype → element count
    metadata: Mapping[str, str]
    kv: Mapping[str, Any]
    config: Mapping[str, Any]
    adapter_config: Mapping[str, Any]
    file_name: str
    unit_name: str

    def has_prefix(self, *prefixes: str) -> bool:
        return any(n.startswith(prefixes) for n in self.names)

    def has(self, *parts: str) -> bool:
        return any(part in n for n in self.names for part in parts)

    def count(self, part: str) -> int:
        return sum(part in n for n in self.names)

    def width(self, suffix: str, axis: int = 1) -> int | None:
        """A dimension of the first tensor whose name ends with `suffix`."""
        for name, shape in self.shapes.items():
            if name.endswith(suffix) and len(shape) > axis:
                return shape[axis]
        return None


def facts_of(unit: ImportUnit, sniffed: Sniffed) -> Facts:
    details = sniffed.details
    tensors: Sequence[Tensor] = details.get("tensors", ())
    names = tuple(t[0] for t in tensors) or tuple(details.get("names", ()))
    shapes = {t[0]: tuple(t[2]) for t in tensors}
    return Facts(
        format=sniffed.format,
        names=names,
        shapes=shapes,
        dtypes=dtype_counts(tensors, details.get("storages", {})),
        metadata=details.get("metadata") or {},
        kv=details.get("kv") or {},
        config=details.get("config") or {},
        adapter_config=details.get("adapter_config") or {},
        file_name=unit.primary.name,
        unit_name=unit.name,
    )


def dtype_counts(
    tensors: Iterable[Tensor], storages: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Elements per dtype; a pickle's storage counts add in (0 still records the dtype)."""
    dtypes: Counter[str] = Counter()
    for _name, dtype, shape in tensors:
        dtypes[dtype] += math.prod(shape)
    for dtype, count in (storages or {}).items():
        dtypes[dtype] += count
    return dict(dtypes)
