"""Where a key sits in the config file, so a message can name its line."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from pathlib import Path

from modeld.config.schema import Config

_HEADER = re.compile(r"^\s*\[\[?([^\]]+)\]\]?")


def locate(config: Config, table: str, key: str) -> str:
    """`<file>:line N: table.key`, for a value found wrong after loading
    (by a component that owns the list of what is valid)."""
    lines: list[str] = []
    if config.source is not None:
        # unreadable now: the key is still named, only without its line
        with contextlib.suppress(OSError, UnicodeDecodeError):
            lines = config.source.read_text(encoding="utf-8").splitlines()
    return where(config.source, lines, table, key)


def where(source: Path | None, lines: Sequence[str], table: str, key: str) -> str:
    """`<file>:line N: table.key` (`?` for a line not found), or the dotted key alone
    when there is no file."""
    dotted = f"{table}.{key}" if table else key
    if source is None:
        return dotted
    number = key_line(lines, table, key)
    return f"{source}:{f'line {number}' if number else '?'}: {dotted}"


def key_line(lines: Sequence[str], table: str, key: str) -> int | None:
    """The line a user should look at for `key` of `table` ("" for the top level,
    "hub", "queues.readers", "app[1]", "app[1].folders"): the key's own line, else
    the table's header (a required key that is missing), else None.

    tomllib keeps no positions, so this re-reads the text: good enough for the
    plain layouts people write, and a wrong guess only costs a line number.
    """
    wanted = re.sub(r"\[(\d+)\]", "", table)
    occurrence = int(match.group(1)) if (match := re.search(r"\[(\d+)\]", table)) else 0
    assignment = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    seen: dict[str, int] = {}
    inside, header_line = not table, None
    for number, line in enumerate(lines, start=1):
        if header := _HEADER.match(line):
            name = re.sub(r"[\s\"']", "", header.group(1))
            if line.lstrip().startswith("[["):
                seen[name] = seen.get(name, -1) + 1
            # a sub-table ([app.folders]) belongs to the latest [[app]]
            inside = name == wanted and seen.get(name.split(".")[0], 0) == occurrence
            if inside:
                header_line = number
        elif inside and assignment.match(line):
            return number
    return header_line
