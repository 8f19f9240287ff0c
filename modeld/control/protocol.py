"""The control socket's wire format: newline-delimited JSON, size-capped.

Request:  {"v": 1, "cmd": "<name>", ...arguments}
Reply:    {"ok": true, "result": {...}}  or  {"ok": false, "error": "one line"}

`{"v": 1, "cmd": "subscribe"}` is answered with {"ok": true, "result": {"status": {...}}},
the `status` reply taken after the subscription began (so no change falls between
the two), and then a stream of event lines, one JSON object each, until the
client closes:
    {"time": <unix>, "event": "<kind>", ...fields}
Each kind and its fields is one dataclass in modeld/control/events.py.
"""

from __future__ import annotations

import json
from typing import Any

from modeld.control.errors import ProtocolError

VERSION = 1
MAX_LINE = 1024 * 1024  # requests and replies above this are refused


def encode(message: dict[str, Any]) -> bytes:
    # ASCII escapes carry non-UTF-8 file names (surrogate escapes) through intact
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"
    if len(data) > MAX_LINE:
        raise ProtocolError(f"message of {len(data)} bytes exceeds the {MAX_LINE}-byte cap")
    return data


def decode(line: bytes) -> dict[str, Any]:
    if len(line) > MAX_LINE:
        raise ProtocolError(f"message exceeds the {MAX_LINE}-byte cap")
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message


def request(cmd: str, **arguments: Any) -> dict[str, Any]:
    return {"v": VERSION, "cmd": cmd, **arguments}
