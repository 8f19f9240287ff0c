"""overrides.json: restrict a model to some versions of an app (PEP 440).

    {"version_ranges": {"comfyui": ">=0.3,<0.4", "lmstudio": "*"}}

Keys name an app (its `[[app]] name`, or else its kind), case-insensitively.
`*` and an empty range mean every version. A range that does not parse, or a
file that is not valid, keeps the model out of that app and logs a warning
naming the file: a restriction the user wrote must not silently become "all".
It only decides whether a model is linked, never where.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from modeld.library.layout import OVERRIDES_NAME

log = logging.getLogger(__name__)

ALL_VERSIONS = ("", "*")


@dataclass(frozen=True)
class Overrides:
    """The parsed file; `error` is set (and `ranges` empty) when the file is unusable."""

    path: Path
    ranges: Mapping[str, str]
    error: str | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None


ALLOWED = Decision(True)


def read_overrides(model_folder: Path) -> Overrides | None:
    """The model's overrides.json, or None when it has none."""
    path = model_folder / OVERRIDES_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        return Overrides(path, {}, f"cannot read it: {exc}")
    return parse_overrides(path, text)


def parse_overrides(path: Path, text: str) -> Overrides:
    try:
        document = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        return Overrides(path, {}, f"not valid JSON: {exc}")
    if not isinstance(document, dict):
        return Overrides(path, {}, "not a JSON object")
    ranges = document.get("version_ranges", {})
    if not isinstance(ranges, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in ranges.items()
    ):
        return Overrides(path, {}, '"version_ranges" must map app names to range strings')
    return Overrides(path, {k.strip().lower(): v.strip() for k, v in ranges.items()})


def parse_app_version(text: str | None) -> Version | None:
    """An app's version as PEP 440 ('v0.3.10' is fine), or None when unknown/unparsable."""
    if not text:
        return None
    try:
        return Version(text.strip())
    except InvalidVersion:
        return None


def decide(
    overrides: Overrides | None, app_name: str, app_kind: str, app_version: Version | None
) -> Decision:
    """May this model be linked into this app? Logs a warning naming the file when not valid."""
    if overrides is None:
        return ALLOWED
    if overrides.error:
        log.warning("%s: %s; the model is not linked anywhere", overrides.path, overrides.error)
        return Decision(False, f"{overrides.path}: {overrides.error}")
    text = overrides.ranges.get(app_name.lower())
    if text is None:
        text = overrides.ranges.get(app_kind.lower())
    if text is None or text in ALL_VERSIONS:
        return ALLOWED
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        log.warning(
            "%s: invalid version range %r for %s; the model is not linked there",
            overrides.path,
            text,
            app_name,
        )
        return Decision(False, f"{overrides.path}: invalid version range {text!r}")
    if app_version is None:
        # the range cannot be checked; not linking would hide the model for no stated reason
        return Decision(True, f"version of {app_name} unknown; range {text!r} not checked")
    if spec.contains(app_version, prereleases=True):
        return ALLOWED
    return Decision(False, f"{app_name} {app_version} is outside {text!r} ({overrides.path})")
