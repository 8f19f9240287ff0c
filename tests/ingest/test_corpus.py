"""End to end: importing the labelled corpus plus the hostile corpus from one drop folder.

Through the real `Importer` (move mode, drop folder as the boundary) and the
real CLI for the quarantine list: exactly the expected labels, quarantine
entries, refusals and waits, and no payload ever runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modeld.ingest.pipeline import Importer
from modeld.library.metadata import read_metadata
from tests import modelfiles


@pytest.fixture
def imported(config, index, drop, home):
    marker = home / "MARKER-payload-ran"
    expected = modelfiles.build_corpus(drop)
    hostile = modelfiles.build_hostile(drop, home / "outside", marker)
    report = Importer(config).import_paths([drop], copy=False, boundary=drop)
    yield expected, hostile, report
    assert not marker.exists(), "a pickle payload was executed"


def _entry_of(source: str, drop: Path) -> str:
    return Path(source).relative_to(drop).parts[0]


@pytest.mark.timeout(240)
def test_corpus_imports_with_exactly_the_expected_labels(imported, drop, capsys):
    expected, _hostile, report = imported
    assert report.duplicates == []
    got = {}
    for model in report.imported:
        meta = read_metadata(Path(model["path"]))
        rel = _entry_of(meta.sources[0], drop)
        got[rel] = (
            model["format"],
            model["model_type"],
            model["family"],
            model["precision"],
            model["quant"],
            len(model["files"]),
        )
        assert meta.labels["model_type"]["value"] == model["model_type"]
        assert meta.labels["family"]["source"] in ("header", "metadata", "name", "default")
    want = {
        e.rel: (e.format, e.model_type, e.family, e.precision, e.quant, e.files) for e in expected
    }
    wrong = {rel: (got.get(rel), want[rel]) for rel in want if got.get(rel) != want[rel]}
    with capsys.disabled():
        print(
            f"\ncorpus import: {len(want) - len(wrong)}/{len(want)} models with every label right"
        )
    assert wrong == {}
    assert set(got) == set(want)
    for entry in expected:  # moved into the library, no file left behind
        left = drop / entry.rel
        if left.is_dir() and not left.is_symlink():
            assert [f for _d, _s, files in os.walk(left) for f in files] == [], entry.rel
        else:
            assert not os.path.lexists(left), entry.rel


@pytest.mark.timeout(240)
def test_hostile_files_are_quarantined_or_refused_exactly(imported, drop, config, cli):
    _expected, hostile, report = imported
    outcomes = (
        [("dangerous", item) for item in report.quarantined]
        + [("failed", item) for item in report.failed]
        + [("waiting", item) for item in report.waiting]
    )
    claimed = set()
    for entry in hostile:
        kind = {"dangerous": "dangerous", "problem": "failed", "refused": "failed"}[entry.outcome]
        if entry.retry:
            kind = "waiting"
        matches = [
            (i, item)
            for i, (outcome, item) in enumerate(outcomes)
            if outcome == kind
            and _belongs(item["path"], entry.path)
            and entry.reason in item["reason"]
        ]
        assert len(matches) == 1, (
            entry.key,
            kind,
            [o for o in outcomes if _belongs(o[1]["path"], entry.path)],
        )
        claimed.add(matches[0][0])
    unexpected = [outcome for i, outcome in enumerate(outcomes) if i not in claimed]
    assert unexpected == []

    dangerous = {str(e.path) for e in hostile if e.outcome == "dangerous"}
    listed = cli.json("quarantine", "list")
    assert {entry["path"] for entry in listed} == dangerous
    for entry in listed:
        assert entry["imports"] and "can run code" in entry["reason"]
        assert Path(entry["quarantined_path"]).is_file()
    for path in dangerous:  # moved aside, never deleted
        assert not os.path.lexists(path)


def _belongs(reported: str, path: Path) -> bool:
    return reported == str(path) or reported.startswith(f"{path}/")
