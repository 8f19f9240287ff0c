"""A companion that arrives after its model joins the library copy: real files, real index."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from modeld.ingest.pipeline import Importer
from modeld.library.db import FileRecord
from modeld.library.metadata import read_metadata
from tests import modelfiles

PNG = b"\x89PNG\r\n\x1a\n" + b"preview pixels"


@pytest.fixture
def importer(config, index):
    return Importer(config)


@pytest.fixture
def ink(importer, drop) -> dict:
    """A LoRA already in the library, imported without its preview."""
    source = modelfiles.lora(drop / "ink.safetensors")
    [model] = importer.import_paths([source], copy=False).imported
    return model


def test_a_late_preview_joins_its_model_and_leaves_the_inbox(importer, ink, drop):
    preview = drop / "ink.preview.png"
    preview.write_bytes(PNG)
    report = importer.import_paths([preview], copy=False, boundary=drop)

    assert report.failed == [] and report.duplicates == []
    [model] = report.imported
    assert model["id"] == ink["id"]  # the same model, not a new one
    folder = Path(ink["path"])
    assert (folder / "ink.preview.png").read_bytes() == PNG
    assert not preview.exists()
    meta = read_metadata(folder)
    entry = next(f for f in meta.files if f.name == "ink.preview.png")
    assert entry.sha256 == hashlib.sha256(PNG).hexdigest() and entry.size == len(PNG)
    assert meta.sha256 == ink["sha256"]  # the weights still identify the model
    assert meta.size == ink["size"] + len(PNG)
    assert FileRecord.select().where(FileRecord.rel_path == "ink.preview.png").count() == 1
    assert {f["path"] for f in model["files"]} == {
        str(folder / "ink.preview.png"),
        str(folder / "ink.safetensors"),
    }


def test_copy_mode_keeps_the_source_and_a_second_drop_is_a_duplicate(importer, ink, tmp_path):
    preview = tmp_path / "ink.civitai.info"
    preview.write_text('{"model": {"name": "Ink"}}')
    first = importer.import_paths([preview], copy=True)
    assert [m["id"] for m in first.imported] == [ink["id"]]
    assert preview.exists()
    again = importer.import_paths([preview], copy=False)
    assert again.imported == [] and again.duplicates == [{"path": str(preview), "id": ink["id"]}]
    assert not preview.exists()  # the library holds these very bytes
    assert len(read_metadata(Path(ink["path"])).files) == 2


def test_different_bytes_under_a_name_the_model_has_are_refused_and_kept(importer, ink, tmp_path):
    first = tmp_path / "first" / "ink.preview.png"
    first.parent.mkdir()
    first.write_bytes(PNG)
    importer.import_paths([first], copy=False)
    other = tmp_path / "ink.preview.png"
    other.write_bytes(PNG + b" but another picture")
    report = importer.import_paths([other], copy=False)
    [failed] = report.failed
    assert failed["reason"] == f"{ink['id']} already has a different ink.preview.png"
    assert other.read_bytes() == PNG + b" but another picture"  # a user's unique bytes stay
    assert (Path(ink["path"]) / "ink.preview.png").read_bytes() == PNG


def test_no_model_named_like_it_is_a_clear_failure(importer, ink, tmp_path):
    stray = tmp_path / "holiday.png"
    stray.write_bytes(PNG)
    [failed] = importer.import_paths([stray], copy=False).failed
    assert failed["reason"] == (
        "not a model file (.png), and no model named like it here or in the library"
    )
    assert stray.exists()


def test_a_name_two_library_models_share_is_not_guessed(importer, drop, tmp_path):
    for folder in ("a", "b"):
        (drop / folder).mkdir()
        modelfiles.lora(drop / folder / "style.safetensors", rank=4 if folder == "a" else 8)
        importer.import_paths([drop / folder / "style.safetensors"], copy=False)
    preview = tmp_path / "style.png"
    preview.write_bytes(PNG)
    [failed] = importer.import_paths([preview], copy=False).failed
    assert failed["reason"].startswith("named like 2 library models (")
    assert preview.exists()


def test_a_crash_after_the_file_landed_is_finished_by_the_next_attempt(importer, ink, tmp_path):
    # as a crash between the move into the model folder and metadata.json leaves it
    folder = Path(ink["path"])
    (folder / "ink.preview.png").write_bytes(PNG)
    preview = tmp_path / "ink.preview.png"
    preview.write_bytes(PNG)
    report = importer.import_paths([preview], copy=False)
    assert [m["id"] for m in report.imported] == [ink["id"]]
    assert any(f.name == "ink.preview.png" for f in read_metadata(folder).files)
    assert not preview.exists()
    staging = folder.parents[2] / ".modeld" / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []
