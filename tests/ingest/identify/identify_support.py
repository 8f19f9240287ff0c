"""Shared by the identification tests: plan, sniff and identify one real file."""

from __future__ import annotations

from pathlib import Path

from modeld.ingest.formats import Sniffed
from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.identify import Identity, identify
from modeld.ingest.planner import plan_units


def identify_path(path: Path) -> tuple[Sniffed, Identity]:
    units, problems = plan_units([path], boundary=path.parent)
    assert problems == [] and len(units) == 1
    sniffed = inspect_unit(units[0])
    assert isinstance(sniffed, Sniffed), sniffed
    return sniffed, identify(units[0], sniffed)
