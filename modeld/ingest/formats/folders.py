"""Diffusers folders: ``model_index.json`` plus one subfolder per component.

The index names the pipeline class (which tells the family) and its
components; each component folder holds a ``config.json`` and weights. Every
weights file is sniffed (a ``.bin`` may be a dangerous pickle); identification
gets the pipeline, and per component its format, tensors and config.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from modeld.ingest.formats.merge import merge_details, sniff_files
from modeld.ingest.formats.results import Refused, Sniffed, SniffResult
from modeld.ingest.units import ImportUnit
from modeld.vocab.filenames import DIFFUSERS_INDEX
from modeld.vocab.reads import Malformed, read_json_object, read_optional_json


def inspect_diffusers(unit: ImportUnit) -> SniffResult:
    by_name = {f.name: f for f in unit.files}
    index_file = by_name.get(DIFFUSERS_INDEX)
    if index_file is None:
        return Refused("diffusers folder without model_index.json")
    try:
        index = read_json_object(index_file.path)
    except Malformed as exc:
        return Refused(exc.reason, exc.retry)
    pipeline = index.get("_class_name")
    if not isinstance(pipeline, str):
        return Refused("model_index.json names no pipeline (_class_name)")

    weights = [f for f in unit.files if f.role == "weights"]
    if not weights:
        return Refused("diffusers folder without any weights file", retry=True)
    sniffed = sniff_files(weights, name_files=True)
    if not isinstance(sniffed, list):
        return sniffed

    components: dict[str, dict[str, Any]] = {}
    declared = [
        key
        for key, value in index.items()
        if not key.startswith("_") and isinstance(value, list) and value and value[0] is not None
    ]
    for key in declared:
        files = [(f, s) for f, s in sniffed if PurePosixPath(f.name).parts[0] == key]
        config_file = by_name.get(f"{key}/config.json")
        component: dict[str, Any] = {"class": index[key][-1]}
        if files:
            # prefer the full-precision file when a variant (fp16) sits beside it
            files.sort(key=lambda pair: (pair[0].name.count("."), pair[0].name))
            component["format"] = files[0][1].format
            component["tensors"] = files[0][1].details.get("tensors", ())
            component["names"] = files[0][1].details.get("names", ())
        if config_file is not None:
            component["config"] = read_optional_json(config_file.path) or {}
        components[key] = component

    details = merge_details([s.details for _f, s in sniffed])
    details["pipeline"] = {k: v for k, v in index.items() if isinstance(v, str | int | float)}
    details["components"] = components
    details["missing_components"] = [
        key for key in declared if not any(n.startswith(f"{key}/") for n in by_name)
    ]
    return Sniffed("diffusers", details)
