"""A forward-only reader that never trusts a length it has not checked.

Every `take`/`skip` is checked against the file's size first: a read past
the end raises `Malformed(..., retry=True)` (the file looks truncated, it may
still be downloading), and no buffer is ever sized from a file's own numbers
before that check. Reads go through a window of at most `WINDOW` bytes so
skipping many small values (a GGUF vocabulary) costs no system call each.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from modeld.vocab.reads import Malformed

WINDOW = 1 << 20

_U8 = struct.Struct("<B")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class Cursor:
    def __init__(self, handle: BinaryIO, size: int, what: str, pos: int = 0):
        self.handle = handle
        self.size = size
        self.what = what  # "GGUF header", for messages
        self.pos = pos
        self._buf = b""
        self._buf_start = 0

    @property
    def remaining(self) -> int:
        return self.size - self.pos

    def need(self, count: int, purpose: str) -> None:
        if count < 0:
            raise Malformed(f"{self.what}: negative length for {purpose}")
        if count > self.remaining:
            raise Malformed(
                f"{self.what} is cut short: {purpose} needs {count} bytes at offset "
                f"{self.pos}, but the file ends at {self.size}",
                retry=True,
            )

    def take(self, count: int, purpose: str) -> bytes:
        self.need(count, purpose)
        offset = self.pos - self._buf_start
        if offset < 0 or offset + count > len(self._buf):
            self._fill(count)
            offset = 0
        self.pos += count
        return self._buf[offset : offset + count]

    def skip(self, count: int, purpose: str) -> None:
        self.need(count, purpose)
        self.pos += count

    def u8(self, purpose: str) -> int:
        value: int = _U8.unpack(self.take(1, purpose))[0]
        return value

    def u32(self, purpose: str) -> int:
        value: int = _U32.unpack(self.take(4, purpose))[0]
        return value

    def u64(self, purpose: str) -> int:
        value: int = _U64.unpack(self.take(8, purpose))[0]
        return value

    def skip_strings(self, count: int, purpose: str, max_length: int) -> None:
        """Skip `count` length-prefixed strings (a vocabulary) without decoding them.

        A length over `max_length` is refused outright: no download finishes it.
        """
        for _ in range(count):
            offset = self.pos - self._buf_start
            if offset < 0 or offset + 8 > len(self._buf):
                self.need(8, purpose)
                self._fill(8)
                offset = 0
            length = _U64.unpack_from(self._buf, offset)[0]
            if length > max_length:
                raise Malformed(
                    f"{self.what}: a string in {purpose} claims {length} bytes, "
                    f"over the {max_length}-byte limit"
                )
            self.pos += 8
            self.need(length, purpose)
            self.pos += length

    def _fill(self, count: int) -> None:
        self.handle.seek(self.pos)
        data = self.handle.read(max(count, min(WINDOW, self.remaining)))
        if len(data) < count:  # the file shrank under us
            raise Malformed(f"{self.what}: the file ended while reading it", retry=True)
        self._buf = data
        self._buf_start = self.pos
