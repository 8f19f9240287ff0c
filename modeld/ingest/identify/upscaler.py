"""Image upscalers: ESRGAN/Real-ESRGAN (``conv_first`` + ``RRDB_trunk``/``body``, or the
old ``model.N`` sequential layout) and SwinIR (``residual_group``)."""

from __future__ import annotations

from typing import Any

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, SURE, Kind, Label


def upscaler(f: Facts, extra: dict[str, Any]) -> Kind | None:
    kind = Label("upscaler", "header", SURE)
    if f.has_prefix("conv_first.") and f.has_prefix("RRDB_trunk.", "body.", "trunk_conv."):
        return kind, Label("esrgan", "header", SURE)
    if f.has_prefix("model.0.weight") and f.has(".sub.") and f.has("RDB"):
        return kind, Label("esrgan", "header", SURE)
    if f.has("residual_group") and f.has_prefix("conv_after_body", "conv_first."):
        return kind, Label("swinir", "header", LIKELY)
    return None
