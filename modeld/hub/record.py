"""Writing a lookup's outcome into the model's metadata.json, the index and the
table of lookup states.

metadata.json is the source of truth:
- a confirmed match (exact LFS sha256) goes under `hub`;
- unconfirmed leads go under `hub_suggestions`, never under `hub`;
- the lookup's own state goes under `hub_lookup`: {state: done | miss |
  pending, attempts, last_attempt[, error]}.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modeld.hub import due
from modeld.hub.errors import ModelChanged
from modeld.hub.lookup import LookupOutcome
from modeld.hub.lookupstate import LookupState
from modeld.library.index import upsert_model
from modeld.library.metadata import UPDATE_LOCK, ModelMeta, read_metadata, write_metadata

# Keys this module owns in metadata.json (besides the contract's `hub`).
SUGGESTIONS_KEY = "hub_suggestions"
LOOKUP_KEY = "hub_lookup"


def record_outcome(
    library_root: Path,
    folder: Path,
    seen: ModelMeta,
    outcome: LookupOutcome,
    *,
    cached: bool,
    description: str | None = None,
) -> ModelMeta:
    """Write the outcome into metadata.json (re-read: others may have written since).

    Returns the metadata as written. Raises ModelChanged, OSError or ValueError.
    """
    with UPDATE_LOCK:  # others (a late preview) may write it too
        meta = read_metadata(folder)
        if meta.id != seen.id or meta.sha256 != seen.sha256:
            raise ModelChanged("model changed meanwhile")
        attempts = _attempts(meta) + (0 if cached else 1)
        now = time.time()
        lookup: dict[str, Any] = {
            "state": outcome.state.recorded,
            "attempts": attempts,
            "last_attempt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        }
        if outcome.state is LookupState.CONFIRMED:
            meta.hub = outcome.hub
            meta.extra.pop(SUGGESTIONS_KEY, None)
            if description and not meta.description:
                meta.description = description  # searchable, shown by `modeld show`
        elif outcome.state.answered:
            # a miss never erases an earlier confirmed match (a repo may go private)
            if outcome.suggestions and not (meta.hub and meta.hub.get("confirmed")):
                meta.extra[SUGGESTIONS_KEY] = [s.as_dict() for s in outcome.suggestions]
            else:
                meta.extra.pop(SUGGESTIONS_KEY, None)
        else:
            lookup["error"] = outcome.error
        meta.extra[LOOKUP_KEY] = lookup
        write_metadata(folder, meta)
        upsert_model(library_root, folder, meta)
        due.record_state(
            meta.id, outcome.state, attempts=attempts, last_attempt=now, error=outcome.error
        )
    return meta


def _attempts(meta: ModelMeta) -> int:
    lookup = meta.extra.get(LOOKUP_KEY)
    value = lookup.get("attempts") if isinstance(lookup, Mapping) else 0
    return value if isinstance(value, int) else 0
