"""Parameter count and size class ("8B", "135M"): GGUF's ``general.size_label`` when
present, otherwise counted from the tensor shapes or a pickle's storages."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from modeld.ingest.formats import Sniffed
from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, SURE, Label


def params_of(sniffed: Sniffed) -> int | None:
    tensors: Sequence[tuple[str, str, tuple[int, ...]]] = sniffed.details.get("tensors") or ()
    if tensors:
        return sum(math.prod(shape) for _name, _dtype, shape in tensors)
    storages: Mapping[str, int] = sniffed.details.get("storages") or {}
    return sum(storages.values()) or None


def size_class(f: Facts, params: int | None) -> Label | None:
    label = f.kv.get("general.size_label")
    if isinstance(label, str) and label:
        return Label(label, "header", SURE)
    if not params:
        return None
    return Label(humanize_params(params), "header", LIKELY)


def humanize_params(count: int) -> str:
    """7_241_732_096 → '7.2B'; 135_000_000 → '135M'."""
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if count >= scale:
            value = count / scale
            text = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
            return f"{text}{unit}"
    return str(count)
