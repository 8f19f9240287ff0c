"""The siblings a file dropped on its own is planned with, and a drop folder's
listing shared by the plans of the files that settle together.

A file in a drop folder (or named on the command line) brings only the
siblings named like it: its shards and companions (`related_names`). Finding
them means listing the folder, so a burst of N files into an inbox listed it
N times, N names each: quadratic (2.5 ms a listing of 2,000 names in a busy
daemon, whose listdir gives up the GIL for every entry). The watch's plans
share one listing per folder for a planning round (MAX_AGE) and find a
file's related names in it by prefix.

A kept listing stays honest: a related name that is gone is dropped (an
lstat of the few related names), a file it does not hold gets the folder
listed again, and a plan that has to wait (an incomplete shard set) is made
again from fresh listings (`planner.plan_units`). What it can miss is a
sibling that arrived within MAX_AGE, as if it had arrived just after the
plan: a late preview, which planning already handles.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from modeld.vocab.filenames import SHARD

MAX_AGE = 0.25  # seconds: files that settle together are offered within this


def related_names(name: str, siblings: Iterable[str]) -> list[str]:
    """The siblings that can belong with `name` in a drop folder: its shards and
    companions all start with its base name, then a separator (`big.json`,
    `big-00002-of-00003.gguf`; not `bigger.json`, someone else's file). A burst
    of a thousand unrelated files then costs each file a filter, not a
    thousand-file plan."""
    base = _base(name)
    return [s for s in siblings if _is_related(base, s)]


def _base(name: str) -> str:
    match = SHARD.match(name)
    return match["base"] if match else name.split(".", 1)[0]


def _is_related(base: str, sibling: str) -> bool:
    return sibling.startswith(base) and not sibling[len(base) : len(base) + 1].isalnum()


@dataclass
class _Listing:
    names: list[str]  # sorted
    taken: float

    def holds(self, name: str) -> bool:
        at = bisect.bisect_left(self.names, name)
        return at < len(self.names) and self.names[at] == name

    def starting_with(self, prefix: str) -> list[str]:
        found = []
        for name in self.names[bisect.bisect_left(self.names, prefix) :]:
            if not name.startswith(prefix):
                break
            found.append(name)
        return found

    def drop(self, name: str) -> None:
        self.names.pop(bisect.bisect_left(self.names, name))


class Listings:
    """Folder listings kept for MAX_AGE; one thread's (the watch's), not locked."""

    def __init__(self, max_age: float = MAX_AGE, clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age
        self._clock = clock
        self._kept: dict[Path, _Listing] = {}

    def related(self, folder: Path, name: str) -> list[str]:
        """`related_names(name, <folder's names>)`, from a kept listing when it holds
        `name`; OSError when the folder cannot be listed."""
        now = self._clock()
        listing = self._kept.get(folder)
        if listing is None or now - listing.taken > self.max_age or not listing.holds(name):
            listing = _Listing(sorted(os.listdir(folder)), now)
            # one listing per drop folder at most; the stale ones go
            self._kept = {
                f: kept for f, kept in self._kept.items() if now - kept.taken <= self.max_age
            }
            self._kept[folder] = listing
        base, related = _base(name), []
        for sibling in listing.starting_with(base):
            if not _is_related(base, sibling):
                continue
            if sibling != name and not os.path.lexists(folder / sibling):
                listing.drop(sibling)  # imported and moved away since the listing
                continue
            related.append(sibling)
        return related

    def clear(self) -> None:
        self._kept.clear()
