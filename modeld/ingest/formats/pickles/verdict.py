"""Judging scanned pickle streams: harmless, dangerous, or impossible to verify.

Every stream is scanned twice, without executing anything: by our own walk
(`walk.py`) and by picklescan, the maintained scanner. A file is safe only
when the union of the imports both found is on the allow-list
(`allowlist.py`) and neither scan hit an error. picklescan alone is a
blocklist with a history of bypasses; the allow-list is what decides.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from modeld.ingest.formats.pickles.allowlist import is_harmless, normalize
from modeld.ingest.formats.pickles.walk import UNRESOLVED, StreamFacts
from modeld.ingest.formats.results import Dangerous

log = logging.getLogger(__name__)

STORAGE_DTYPES = {
    "HalfStorage": ("F16", 2),
    "BFloat16Storage": ("BF16", 2),
    "FloatStorage": ("F32", 4),
    "DoubleStorage": ("F64", 8),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
    "ShortStorage": ("I16", 2),
    "CharStorage": ("I8", 1),
    "ByteStorage": ("U8", 1),
    "BoolStorage": ("BOOL", 1),
    "UntypedStorage": ("U8", 1),  # bytes; the tensor's own dtype says more (below)
}
# dtypes torch saves in an UntypedStorage (torch.storage._new_dtypes), by the
# global that names them in the rebuild call
_UNTYPED_DTYPES = {
    "torch.float8_e4m3fn": "F8_E4M3",
    "torch.float8_e5m2": "F8_E5M2",
    "torch.float8_e4m3fnuz": "F8_E4M3",
    "torch.float8_e5m2fnuz": "F8_E5M2",
}


def unverifiable(why: str) -> Dangerous:
    """A file holding a pickle the scan could not finish is not trusted."""
    return Dangerous(f"pickle could not be fully scanned ({why[:160]}); it cannot be verified")


def picklescan_globals(data: bytes, label: str) -> tuple[set[str], set[str], bool]:
    """(all imports, imports picklescan calls dangerous, scan error) for one stream."""
    # lazy: picklescan takes ~0.1 s to import and only a pickle needs it
    from picklescan.scanner import SafetyLevel, scan_pickle_bytes

    try:
        result = scan_pickle_bytes(io.BytesIO(data), label, multiple_pickles=False)
    except Exception:  # picklescan raises on some malformed streams: that is a scan error
        log.debug("picklescan failed on %s", label, exc_info=True)
        return set(), set(), True
    found = {f"{g.module}.{g.name}" for g in result.globals}
    dangerous = {
        f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Dangerous
    }
    return found, dangerous, bool(result.scan_err)


@dataclass(frozen=True)
class Verdict:
    """Both scans' findings over every stream of one file."""

    imports: Dangerous | None  # something off the allow-list, however the scan ended
    scan_error: str | None  # the first stream that could not be read to its end

    @property
    def final(self) -> Dangerous | None:
        if self.imports is not None:
            return self.imports
        return unverifiable(self.scan_error) if self.scan_error is not None else None


def judge(streams: list[tuple[StreamFacts, bytes]], label: str) -> Verdict:
    imports: set[str] = set()
    flagged: set[str] = set()
    scan_error: str | None = None
    for facts, data in streams:
        found, dangerous, picklescan_failed = picklescan_globals(data, label)
        imports |= facts.globals | found
        flagged |= dangerous
        if scan_error is None and facts.error is not None:
            scan_error = f"stream at byte {facts.start}: {facts.error}"
        elif scan_error is None and picklescan_failed:
            scan_error = f"picklescan could not parse the stream at byte {facts.start}"
    return Verdict(_off_the_list(imports, flagged), scan_error)


def _off_the_list(imports: set[str], flagged: set[str]) -> Dangerous | None:
    bad = sorted(name for name in imports if not is_harmless(name) or name in flagged)
    if not bad:
        return None
    runs_code = [n for n in bad if n in flagged or n == UNRESOLVED or n.startswith("copyreg.")]
    shown = ", ".join(bad[:8]) + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")
    if runs_code:
        reason = f"pickle imports {shown}: this can run code when loaded"
    else:
        reason = f"pickle imports {shown}, not on the allow-list of torch, ComfyUI and A1111"
    return Dangerous(reason, tuple(bad))


def details(container: str, streams: list[StreamFacts]) -> dict[str, Any]:
    """What identification needs: tensor names and element counts per dtype."""
    names: dict[str, None] = {}
    dtypes: Counter[str] = Counter()
    imports: set[str] = set()
    for facts in streams:
        names.update(facts.names)
        imports |= {normalize(name) for name in facts.globals}
        for storage, numel in facts.storage_elements.items():
            if storage in STORAGE_DTYPES:
                dtypes[STORAGE_DTYPES[storage][0]] += numel
    untyped = sorted({_UNTYPED_DTYPES[n] for n in imports if n in _UNTYPED_DTYPES})
    if len(untyped) == 1 and "U8" in dtypes:
        dtypes[untyped[0]] += dtypes.pop("U8")  # one float8 dtype: each element is a byte
    return {"container": container, "names": tuple(names), "storages": dict(dtypes)}
