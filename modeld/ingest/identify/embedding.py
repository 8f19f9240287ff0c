"""Textual-inversion embeddings: ``emb_params`` (width 768 sd15, 1024 sd2),
``clip_l`` + ``clip_g`` (sdxl), or a pickle's ``string_to_param``."""

from __future__ import annotations

from typing import Any

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, SURE, UNKNOWN, Kind, Label

EMBEDDING_KEYS = frozenset({"emb_params", "clip_l", "clip_g"})


def embedding(f: Facts, extra: dict[str, Any]) -> Kind | None:
    kind = Label("embedding", "header", SURE)
    if f.format == "pickle":
        if "string_to_param" in f.names:
            return kind, UNKNOWN
        return None
    if not f.names or len(f.names) > 4 or not set(f.names) <= EMBEDDING_KEYS:
        return None
    if {"clip_l", "clip_g"} <= set(f.names):
        return kind, Label("sdxl", "header", SURE)
    width = f.width("emb_params")
    extra["context_dim"] = width
    family = {768: "sd15", 1024: "sd2"}.get(width or 0)
    return kind, Label(family, "header", LIKELY) if family else UNKNOWN
