"""Several weights files read as one model: each sniffed, their details merged.

Shared by the verdict on a file or shard set (`combine`) and on a diffusers
folder (`folders`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from modeld.ingest.formats.detect import sniff_file
from modeld.ingest.formats.results import Dangerous, Refused, Sniffed
from modeld.ingest.units import UnitFile


def sniff_files(
    files: list[UnitFile], *, name_files: bool
) -> list[tuple[UnitFile, Sniffed]] | Refused | Dangerous:
    """Sniff each file; the first refusal or danger wins, naming the file when there are several."""
    results: list[tuple[UnitFile, Sniffed]] = []
    for file in files:
        result = sniff_file(file.path)
        if isinstance(result, Dangerous):
            reason = f"{file.name}: {result.reason}" if name_files else result.reason
            return Dangerous(reason, result.imports, path=file.path)
        if isinstance(result, Refused):
            reason = f"{file.name}: {result.reason}" if name_files else result.reason
            return Refused(reason, result.retry)
        results.append((file, result))
    return results


def merge_details(parts: list[Any]) -> dict[str, Any]:
    """Concatenate tensors and names, sum storages, keep the first metadata/KV found."""
    merged: dict[str, Any] = {"files": len(parts)}
    tensors: list[Any] = []
    names: dict[str, None] = {}
    storages: Counter[str] = Counter()
    for details in parts:
        tensors.extend(details.get("tensors", ()))
        names.update(dict.fromkeys(details.get("names", ())))
        storages.update(details.get("storages", {}))
        for key in ("metadata", "container", "version", "ir_version", "producer_name", "opsets"):
            if key in details and not merged.get(key):
                merged[key] = details[key]
        kv = details.get("kv")
        # a split GGUF keeps its metadata in the first shard (split.no == 0)
        if kv is not None and ("kv" not in merged or kv.get("split.no") == 0):
            merged["kv"] = kv
    if tensors:
        merged["tensors"] = tuple(tensors)
    if names:
        merged["names"] = tuple(names)
    if storages:
        merged["storages"] = dict(storages)
    return merged
