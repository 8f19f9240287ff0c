"""The tray's words for numbers, names and times: counts, sizes, rates, durations, clipping.

Pure helpers shared by the tooltip, the menu and the notifications, so they
all say "3 files", "8.5 MB/s" and "4 min" the same way.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from modeld.sizes import human_size

NAME_MAX = 40


def as_int(value: Any) -> int:
    """A count from a status or event field; missing or malformed counts as 0."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def error_text(error: Any) -> str:
    """`name: reason` for a status `errors` or `waiting` entry (older daemons sent strings)."""
    if isinstance(error, Mapping):
        reason = str(error.get("reason") or error)
        path = error.get("path")
        return f"{os.path.basename(str(path)) or path}: {reason}" if path else reason
    return str(error)


def names(paths: Iterable[str]) -> list[str]:
    return [os.path.basename(p) or p for p in paths]


def list_some(items: list[str], shown: int) -> str:
    text = ", ".join(items[:shown])
    if len(items) > shown:
        text += f" and {len(items) - shown} more"
    return text


def model_label(model: Mapping[str, Any]) -> str:
    name = middle_clip(str(model.get("name") or model.get("id") or "?"), NAME_MAX)
    kind = model.get("model_type")
    return f"{name} ({kind})" if kind and kind != "unknown" else name


def model_summary(model: Mapping[str, Any]) -> str:
    bits = [
        str(model[k]) for k in ("model_type", "family") if model.get(k) not in (None, "unknown")
    ]
    if model.get("size"):
        bits.append(human_size(as_int(model["size"])))
    return ", ".join(bits)


def rate(bytes_per_second: float) -> str:
    return f"{human_size(bytes_per_second)}/s"


def duration(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def middle_clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    # the end of a model file name (quantisation, version, extension) tells files apart
    keep = limit - 1
    tail = keep * 3 // 5
    return text[: keep - tail] + "…" + text[-tail:]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
