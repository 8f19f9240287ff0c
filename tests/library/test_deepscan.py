"""`scan --deep` rebuilds the index from metadata.json alone and deletes nothing."""

from __future__ import annotations

import os

from modeld.ingest.pipeline import Importer
from modeld.library.db import FileRecord, ModelRecord, open_index
from modeld.library.deepscan import scan_library
from tests import modelfiles


def snapshot():
    return sorted(
        (r.model_id, r.sha256, r.blake3, r.rel_path, r.model_type, r.name)
        for r in ModelRecord.select()
    )


def tree(root):
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size)
        for p in root.rglob("*")
        if p.is_file() and ".modeld" not in p.parts
    )


def test_deep_scan_rebuilds_the_same_index_from_scratch(config, index, drop):
    modelfiles.lora(drop / "a.safetensors")
    modelfiles.vae(drop / "b.safetensors")
    modelfiles.llm_gguf(drop / "c.Q4_K_M.gguf")
    Importer(config).import_paths([drop], copy=False)
    before, files_before, disk_before = (
        snapshot(),
        FileRecord.select().count(),
        tree(config.library_root),
    )
    assert len(before) == 3

    index.close()
    for suffix in ("", "-wal", "-shm"):
        path = config.index_path.with_name(config.index_path.name + suffix)
        if path.exists():
            os.unlink(path)
    db = open_index(config.index_path)
    assert ModelRecord.select().count() == 0

    report = scan_library(config.library_root, deep=True)
    assert (report.found, report.indexed, report.skipped) == (3, 3, [])
    assert snapshot() == before
    assert FileRecord.select().count() == files_before
    assert tree(config.library_root) == disk_before
    db.close()


def test_scan_skips_phantoms_and_drops_stale_rows_without_touching_disk(config, index, drop):
    modelfiles.lora(drop / "a.safetensors")
    modelfiles.vae(drop / "b.safetensors")
    report = Importer(config).import_paths([drop], copy=False)
    a, b = (r["path"] for r in report.imported)
    weights = next(p for p in os.listdir(a) if p != "metadata.json")
    os.unlink(os.path.join(a, weights))  # weights deleted by hand
    os.rename(os.path.join(b, "metadata.json"), os.path.join(b, "metadata.json.bak"))

    report = scan_library(config.library_root, deep=True)
    assert report.indexed == 0
    assert [s["path"] for s in report.skipped] == [a]
    assert "files missing" in report.skipped[0]["reason"]
    assert report.removed == 2  # a is a phantom, b has no metadata.json any more
    assert os.path.exists(os.path.join(a, "metadata.json"))
    assert os.path.exists(os.path.join(b, "metadata.json.bak"))


def test_plain_scan_indexes_only_new_folders(config, index, drop):
    modelfiles.lora(drop / "a.safetensors")
    Importer(config).import_paths([drop], copy=False)
    report = scan_library(config.library_root, deep=False)
    assert (report.found, report.unchanged, report.indexed) == (1, 1, 0)
