"""Small JSON companions (config.json, model_index.json, shard indexes), read with a cap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modeld.ingest.formats import Malformed, Refused

MAX_CONFIG_BYTES = 1 << 20
MAX_INDEX_BYTES = 32 << 20


def read_json_object(path: Path, cap: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    """The JSON object in `path`; raises Malformed when it is missing, too big or not an object."""
    from modeld.ingest.formats.detect import open_regular

    opened = open_regular(path)
    if isinstance(opened, Refused):
        raise Malformed(f"{path.name}: {opened.reason}", retry=opened.retry)
    handle, size = opened
    with handle:
        if size > cap:
            raise Malformed(f"{path.name} is {size} bytes (cap {cap})")
        raw = handle.read(cap + 1)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise Malformed(f"{path.name} is not valid JSON: {str(exc)[:100]}") from None
    if not isinstance(value, dict):
        raise Malformed(f"{path.name} is not a JSON object")
    return value


def read_optional_json(path: Path, cap: int = MAX_CONFIG_BYTES) -> dict[str, Any] | None:
    """A companion that helps identification but is not required: None when unusable."""
    try:
        return read_json_object(path, cap)
    except (Malformed, OSError):
        return None
