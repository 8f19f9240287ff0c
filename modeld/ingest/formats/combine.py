"""One verdict for a whole import unit (a file, a shard set, a diffusers folder).

Every weights file is sniffed; the unit is as good as its worst file. The
per-file details are merged so identification sees the whole model (a
sharded LLM's ``lm_head`` lives in its last shard; a split GGUF keeps its
metadata in the first). Companion JSON that helps identification
(``config.json``) is attached; a shard index must agree with the shards.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from modeld.ingest.formats.folders import inspect_diffusers
from modeld.ingest.formats.merge import merge_details, sniff_files
from modeld.ingest.formats.results import Refused, Sniffed, SniffResult
from modeld.ingest.units import ImportUnit, UnitFile
from modeld.vocab.reads import MAX_INDEX_BYTES, Malformed, read_json_object, read_optional_json


def inspect_unit(unit: ImportUnit) -> SniffResult:
    """Sniff every weights file of a unit; the unit is as good as its worst file."""
    if unit.kind == "diffusers":
        return inspect_diffusers(unit)
    weights = [f for f in unit.files if f.role == "weights"]
    if not weights:
        return Refused("no weights file in this unit")
    sniffed = sniff_files(weights, name_files=len(weights) > 1)
    if not isinstance(sniffed, list):
        return sniffed
    formats = sorted({s.format for _f, s in sniffed})
    if len(formats) > 1:
        return Refused(f"one model in several formats ({', '.join(formats)})")
    details = merge_details([s.details for _f, s in sniffed])
    try:
        if unit.kind == "sharded":
            _check_shards(unit, formats[0], sniffed, details)
    except Malformed as exc:
        return Refused(exc.reason, exc.retry)
    for name, key in (("config.json", "config"), ("adapter_config.json", "adapter_config")):
        companion = _companion(unit, name)
        if companion is not None:
            details[key] = companion
    return Sniffed(formats[0], details)


def _check_shards(
    unit: ImportUnit, fmt: str, sniffed: list[tuple[UnitFile, Sniffed]], details: dict[str, Any]
) -> None:
    if fmt == "gguf":
        counts = {s.details.get("kv", {}).get("split.count") for _f, s in sniffed}
        counts.discard(None)
        if counts and counts != {len(sniffed)}:
            raise Malformed(
                f"GGUF split count {sorted(counts)} does not match {len(sniffed)} shards"
            )
        return
    index_file = next((f for f in unit.files if f.name.endswith(".index.json")), None)
    if index_file is None:
        return
    index = read_json_object(index_file.path, MAX_INDEX_BYTES)
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict):
        raise Malformed(f"{index_file.name} has no weight_map")
    have = {name for name, _dtype, _shape in details.get("tensors", ())}
    have |= set(details.get("names", ()))
    missing = [name for name in weight_map if name not in have]
    if missing and fmt == "safetensors":
        raise Malformed(
            f"{index_file.name} lists {len(missing)} tensors no shard holds (e.g. {missing[0]!r})"
        )
    shard_names = {PurePosixPath(f.name).name for f, _s in sniffed}
    strays = sorted({str(v) for v in weight_map.values()} - shard_names)
    if strays:
        raise Malformed(
            f"{index_file.name} points at files not in the set: {', '.join(strays[:3])}",
            retry=True,
        )


def _companion(unit: ImportUnit, name: str) -> dict[str, Any] | None:
    for file in unit.files:
        if file.role == "companion" and PurePosixPath(file.name).name == name:
            return read_optional_json(file.path)
    return None
