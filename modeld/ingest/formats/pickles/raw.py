"""Files that are pickle streams: plain pickles and torch's legacy (pre-1.6) format.

The legacy format is five pickle streams (magic number, protocol version,
system info, the object, the storage keys) followed by the raw storage bytes.
Anything else after the last stream is walked too, so a pickle hidden behind
another is scanned like the first.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from modeld.ingest.formats.pickles.verdict import details, judge, unverifiable
from modeld.ingest.formats.pickles.walk import StreamFacts, is_pickle, walk_stream
from modeld.ingest.formats.results import Dangerous
from modeld.vocab.reads import Malformed

MAX_PICKLE_BYTES = 64 << 20
MAX_STREAMS = 16
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch's legacy serialization magic number
LEGACY_STREAMS = 5


def looks_like_pickle(head: bytes) -> bool:
    """PROTO 2..5: every pickle written since Python 2.3 by default."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def starts_a_pickle(data: bytes, start: int = 0) -> bool:
    """Whether a bounded walk from `start` finds a pickle, in any protocol."""
    return looks_like_pickle(data[start : start + 2]) or is_pickle(walk_stream(data, start))


def read_raw_pickle(handle: BinaryIO, size: int, label: str) -> dict[str, Any] | Dangerous:
    handle.seek(0)
    window = handle.read(min(size, MAX_PICKLE_BYTES))
    whole = len(window) == size
    streams = _streams(window)
    if len(streams) > MAX_STREAMS:
        return unverifiable(f"more than {MAX_STREAMS} pickle streams in one file")
    first, last = streams[0], streams[-1]
    legacy = _is_legacy(first)

    verdict = judge([(s, window[s.start : s.end]) for s in streams], label)
    if verdict.imports is not None:
        return verdict.imports
    if last.error is not None and last.exhausted:
        if not whole:
            return unverifiable(f"the pickle is longer than the {MAX_PICKLE_BYTES >> 20} MiB cap")
        raise Malformed("truncated: the pickle ends before its STOP opcode", retry=True)
    if verdict.final is not None:
        return verdict.final
    if legacy and len(streams) < LEGACY_STREAMS:
        raise Malformed("legacy torch file with fewer than five pickle streams")
    if not legacy and last.end < size:
        raise Malformed(f"{size - last.end} bytes of unknown data after the pickle")
    return details("legacy" if legacy else "raw", streams)


def _is_legacy(first: StreamFacts) -> bool:
    return first.error is None and first.ops <= 4 and first.first_int == LEGACY_MAGIC


def _streams(window: bytes) -> list[StreamFacts]:
    """Every pickle stream from the start of `window`, one after another (one past the cap)."""
    first = walk_stream(window, 0)
    if first.error is not None and not is_pickle(first) and first.ops <= 1:
        raise Malformed(f"not a pickle: {first.error[:120]}")
    legacy = _is_legacy(first)
    streams = [first]
    while streams[-1].error is None:
        end = streams[-1].end
        if (legacy and len(streams) == LEGACY_STREAMS) or end >= len(window):
            break  # legacy: the rest is raw storage bytes
        following = walk_stream(window, end)
        if not legacy and not (looks_like_pickle(window[end : end + 2]) or is_pickle(following)):
            break  # trailing bytes that are no pickle: judged by the caller
        streams.append(following)
        if len(streams) > MAX_STREAMS:
            break
    return streams
