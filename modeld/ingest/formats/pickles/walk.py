"""One pickle stream, walked opcode by opcode on a symbolic stack: nothing is run.

The walk keeps just enough of the unpickler's state to answer what matters
without executing anything: which globals the stream imports (including
STACK_GLOBAL names assembled from memo fetches), the strings it carries
(tensor names), and the persistent ids torch writes for each storage,
`('storage', StorageType, key, location, numel)`, however their parts are
reached (older torch versions fetch 'storage', the storage class and the
location from the memo, and use pointer-like numbers as keys).

Values the walk cannot know (results of calls, containers) are `UNKNOWN`.
Every opcode's stack effect comes from `pickletools`' own opcode table, so
the stack stays in step with the real unpickler for all protocols 0-5.
"""

from __future__ import annotations

import io
import pickletools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from modeld.ingest.errors import IngestError

MAX_NAMES = 200_000
MAX_NAME_CHARS = 512
# A state dict of 100,000 tensors memoizes well under a million values; a
# stream that goes beyond these bounds is not a checkpoint and is not trusted.
MAX_MEMO = 1 << 20
MAX_STACK = 1 << 20
UNRESOLVED = "<unresolved>"


@dataclass(frozen=True)
class Global:
    name: str  # module.attr, as written in the pickle


@dataclass(frozen=True)
class Tuple:
    items: tuple[Any, ...]


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


class _Mark:
    def __repr__(self) -> str:
        return "MARK"


UNKNOWN = _Unknown()
MARK = _Mark()


@dataclass(frozen=True)
class Storage:
    key: str
    type: str  # the storage class's name, e.g. HalfStorage or UntypedStorage
    numel: int


@dataclass
class StreamFacts:
    """What one pickle stream would import and build, found without running it."""

    start: int
    end: int = 0
    ops: int = 0
    protocol: int = 0
    globals: set[str] = field(default_factory=set)
    names: dict[str, None] = field(default_factory=dict)  # ordered set
    storages: list[Storage] = field(default_factory=list)
    first_int: int | None = None
    stopped: bool = False  # reached STOP
    error: str | None = None
    exhausted: bool = False  # the data ended inside the stream

    @property
    def storage_elements(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for storage in self.storages:
            counts[storage.type] += storage.numel
        return counts


class _Malformed(IngestError):
    """The stream does something the real unpickler would refuse."""


_STRING_OPS = frozenset(
    {
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "UNICODE",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
    }
)
_INT_OPS = frozenset({"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "INT", "LONG"})
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_PUT_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_TUPLE_SIZES = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}


class _Machine:
    def __init__(self, facts: StreamFacts):
        self.facts = facts
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}

    def step(self, opcode: pickletools.OpcodeInfo, arg: Any) -> None:
        name = opcode.name
        if name == "PROTO":
            self.facts.protocol = arg
        elif name in _PUT_OPS or name == "MEMOIZE":
            if not self.stack or self.stack[-1] is MARK:
                raise _Malformed("memo store with nothing on the stack")
            if len(self.memo) >= MAX_MEMO:
                raise _Malformed(f"more than {MAX_MEMO} memo entries")
            self.memo[len(self.memo) if name == "MEMOIZE" else arg] = self.stack[-1]
        elif name in _GET_OPS:
            if arg not in self.memo:
                raise _Malformed(f"memo fetch of {arg}, which was never stored")
            self._push(self.memo[arg])
        elif name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            self._import(f"{module}.{attr}")
            self._generic(opcode, Global(f"{module}.{attr}") if name == "GLOBAL" else UNKNOWN)
        elif name == "STACK_GLOBAL":
            attr, module = self._pop(), self._pop()
            ok = isinstance(module, str) and isinstance(attr, str)
            self._import(f"{module}.{attr}" if ok else UNRESOLVED)
            self._push(Global(f"{module}.{attr}") if ok else UNKNOWN)
        elif name in ("EXT1", "EXT2", "EXT4"):
            # the copyreg extension registry can name any callable
            self.facts.globals.add(f"copyreg.extension[{arg}]")
            self._push(UNKNOWN)
        elif name in _STRING_OPS and isinstance(arg, str):
            if len(arg) <= MAX_NAME_CHARS and len(self.facts.names) < MAX_NAMES:
                self.facts.names.setdefault(arg, None)
            self._push(arg)
        elif name in _INT_OPS and isinstance(arg, int) and not isinstance(arg, bool):
            if self.facts.first_int is None:
                self.facts.first_int = arg
            self._push(arg)
        elif name == "TUPLE":
            self._push(Tuple(tuple(self._pop_to_mark())))
        elif name in _TUPLE_SIZES:
            size = _TUPLE_SIZES[name]
            items = [self._pop() for _ in range(size)]
            self._push(Tuple(tuple(reversed(items))))
        elif name == "DUP":
            top = self._pop()
            self._push(top)
            self._push(top)
        elif name == "BINPERSID":
            self._persistent_id(self._pop())
            self._push(UNKNOWN)
        else:
            self._generic(opcode, UNKNOWN)

    def _generic(self, opcode: pickletools.OpcodeInfo, result: Any) -> None:
        """Apply an opcode's stack effect as pickletools describes it."""
        before, after = opcode.stack_before, opcode.stack_after
        if pickletools.markobject in before:
            self._pop_to_mark()
            below = before.index(pickletools.markobject)
        else:
            below = len(before)
        for _ in range(below):
            self._pop()
        for item in after:
            self._push(MARK if item is pickletools.markobject else result)

    def _import(self, name: str) -> None:
        self.facts.globals.add(name)

    def _persistent_id(self, pid: Any) -> None:
        """torch's ('storage', StorageType, key, location, numel[, view]) tuple."""
        if not isinstance(pid, Tuple) or len(pid.items) < 5 or pid.items[0] != "storage":
            return
        storage_type, key, _location, numel = pid.items[1:5]
        if not isinstance(storage_type, Global) or not isinstance(key, str):
            return
        if not isinstance(numel, int) or isinstance(numel, bool) or numel < 0:
            return
        self.facts.storages.append(Storage(key, storage_type.name.rpartition(".")[2], numel))

    def _push(self, value: Any) -> None:
        if len(self.stack) >= MAX_STACK:
            raise _Malformed(f"stack deeper than {MAX_STACK}")
        self.stack.append(value)

    def _pop(self) -> Any:
        if not self.stack or self.stack[-1] is MARK:
            raise _Malformed("stack underflow")
        return self.stack.pop()

    def _pop_to_mark(self) -> list[Any]:
        items: list[Any] = []
        while self.stack and self.stack[-1] is not MARK:
            items.append(self.stack.pop())
        if not self.stack:
            raise _Malformed("no MARK on the stack")
        self.stack.pop()
        items.reverse()
        return items


def walk_stream(data: bytes, start: int = 0) -> StreamFacts:
    """Walk one stream's opcodes from `start` in `data` (already bounded in memory)."""
    facts = StreamFacts(start=start)
    machine = _Machine(facts)
    stream = io.BytesIO(data)
    stream.seek(start)
    try:
        for opcode, arg, _pos in pickletools.genops(stream):
            facts.ops += 1
            machine.step(opcode, arg)
            if opcode.name == "STOP":
                facts.stopped = True
    except Exception as exc:  # genops raises ValueError, UnicodeDecodeError, ...
        facts.error = str(exc) or type(exc).__name__
        facts.exhausted = stream.tell() >= len(data) and not isinstance(exc, _Malformed)
    facts.end = stream.tell()
    return facts


def looks_like_an_import(name: str) -> bool:
    """module.attr made of Python identifiers: what a real GLOBAL names."""
    return "." in name and all(part.isidentifier() for part in name.split("."))


def is_pickle(facts: StreamFacts) -> bool:
    """Whether a walk from the first byte found a pickle, however it ends.

    A stream that reaches STOP is one. So is one that imports a real-looking
    global before it breaks off: that covers truncated exploit pickles and
    ones followed by garbage, in every protocol, without trusting the first
    bytes. Text that happens to start with an opcode letter does neither.
    """
    if facts.stopped and facts.ops >= 2:
        return True
    return any(looks_like_an_import(name) for name in facts.globals)
