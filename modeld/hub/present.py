"""The hub section of `modeld show`, for humans (pure).

A confirmed match and a suggestion must never look alike: suggestions are
printed as "unconfirmed", each with the reason it was suggested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modeld.hub.lookupstate import LookupState

_REASONS = {
    "same_file_name": "same file name, different content",
    "named_by_file": "named by the file, not found there",
    "similar_name": "similar name",
}


def hub_lines(hub: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> list[str]:
    """Lines for `show`, from metadata `hub` and the `hub_*` keys of metadata `extra`."""
    if hub and hub.get("repo_id"):
        return _confirmed(hub)
    suggestions = extra.get("hub_suggestions")
    if isinstance(suggestions, list) and suggestions:
        lines = [f"  {'hub':<11} no confirmed match; unconfirmed suggestions:"]
        for item in suggestions:
            if not isinstance(item, Mapping):
                continue
            reason = _REASONS.get(str(item.get("reason")), str(item.get("reason") or "?"))
            score = item.get("score")
            if isinstance(score, int | float) and item.get("reason") == "similar_name":
                reason = f"{reason}, {score:.2f}"
            lines.append(f"    unconfirmed  {item.get('repo_id')}  ({reason})")
        return lines
    lookup = extra.get("hub_lookup")
    if not isinstance(lookup, Mapping):
        lookup = {}
    state = lookup.get("state")
    if state == LookupState.PENDING.recorded:
        attempts = lookup.get("attempts") or 0
        return [f"  {'hub':<11} lookup pending: Hub unreachable ({attempts} attempt(s) so far)"]
    if state == LookupState.NOT_FOUND.recorded:
        return [f"  {'hub':<11} not found on the Hub"]
    return [f"  {'hub':<11} not looked up yet"]


def _confirmed(hub: Mapping[str, Any]) -> list[str]:
    method = "sha256 equals the Hub's LFS sha256" if hub.get("match") == "lfs_sha256" else "?"
    lines = [f"  {'hub':<11} {hub['repo_id']}  (confirmed: {method})"]
    rows: list[tuple[str, Any]] = []
    if hub.get("path"):
        revision = str(hub.get("revision") or "")[:12]
        rows.append(("file", hub["path"] + (f" @ {revision}" if revision else "")))
    rows += [
        ("license", hub.get("license")),
        ("pipeline", hub.get("pipeline_tag")),
        ("author", hub.get("author")),
    ]
    base = hub.get("base_model")
    rows.append(("base model", ", ".join(base) if isinstance(base, list) else base))
    downloads = hub.get("downloads")
    rows.append(("downloads", f"{downloads:,}" if isinstance(downloads, int) else None))
    rows.append(("url", hub.get("url")))
    lines += [f"    {label:<11} {value}" for label, value in rows if value]
    return lines
