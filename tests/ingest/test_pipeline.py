"""The import pipeline on real files: move, copy, cross-device, dedupe, failures."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import blake3
import pytest

from modeld.ingest.pipeline import Failed, Imported, Importer, Waiting
from modeld.ingest.planner import plan_units
from modeld.library.db import FileRecord, ModelRecord
from modeld.library.metadata import read_metadata
from tests import modelfiles


def digests(data: bytes) -> tuple[str, str]:
    return hashlib.sha256(data).hexdigest(), blake3.blake3(data).hexdigest()


@pytest.fixture
def importer(config, index):
    return Importer(config)


def only_unit(path: Path):
    units, problems = plan_units([path])
    assert problems == []
    assert len(units) == 1
    return units[0]


def test_move_import_renames_into_the_library_and_writes_metadata(importer, config, drop):
    source = modelfiles.lora(drop / "detail_tweaker.safetensors")
    data = source.read_bytes()
    report = importer.import_paths([source], copy=False)

    assert report.failed == [] and len(report.imported) == 1
    model = report.imported[0]
    assert not source.exists()
    folder = Path(model["path"])
    assert folder.parent.parent.parent == config.library_root
    assert folder.relative_to(config.library_root).parts[0] == model["model_type"]
    stored = folder / "detail_tweaker.safetensors"
    assert stored.read_bytes() == data
    sha, b3 = digests(data)
    assert (model["sha256"], model["blake3"]) == (sha, b3)
    assert model["id"] == b3[:16]

    meta = read_metadata(folder)
    assert meta.id == model["id"] and meta.sha256 == sha
    assert meta.files[0].original_name == "detail_tweaker.safetensors"
    assert meta.imported_at > 0 and meta.sources == [str(source)]
    document = json.loads((folder / "metadata.json").read_text())
    for key in (
        "id",
        "name",
        "model_type",
        "family",
        "format",
        "precision",
        "quant",
        "size",
        "path",
        "sha256",
        "blake3",
        "files",
        "tags",
        "hub",
    ):
        assert key in document
    assert ModelRecord.select().count() == 1


def test_copy_import_keeps_the_source(importer, drop):
    source = modelfiles.vae(drop / "vae.safetensors")
    report = importer.import_paths([source], copy=True)
    assert len(report.imported) == 1
    assert source.exists()
    assert Path(report.imported[0]["files"][0]["path"]).read_bytes() == source.read_bytes()


def test_cross_device_move_copies_verifies_and_removes_the_source(config, index):
    if os.stat("/dev/shm").st_dev == os.stat(config.library_root).st_dev:
        pytest.skip("/dev/shm is on the library's device here")
    other = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        source = modelfiles.llm_gguf(other / "tiny-llama.Q4_K_M.gguf")
        data = source.read_bytes()
        report = Importer(config).import_paths([source], copy=False)
        assert len(report.imported) == 1
        assert not source.exists()
        assert Path(report.imported[0]["files"][0]["path"]).read_bytes() == data
        assert report.imported[0]["sha256"] == hashlib.sha256(data).hexdigest()
        assert list((config.library_root / ".modeld" / "staging").iterdir()) == []
    finally:
        shutil.rmtree(other)


def test_identical_content_is_stored_once(importer, config, drop):
    first = modelfiles.vae(drop / "a.safetensors")
    second = drop / "copy-of-a.safetensors"
    shutil.copyfile(first, second)
    kept = drop / "kept.safetensors"
    shutil.copyfile(first, kept)

    report = importer.import_paths([first], copy=False)
    model_id = report.imported[0]["id"]
    moved = importer.import_paths([second], copy=False)
    copied = importer.import_paths([kept], copy=True)

    assert moved.duplicates == [{"path": str(second), "id": model_id}]
    assert copied.duplicates == [{"path": str(kept), "id": model_id}]
    assert not second.exists()  # byte-verified duplicate of a move: source removed
    assert kept.exists()  # --copy never touches the source
    assert ModelRecord.select().count() == 1
    assert FileRecord.select().count() == 1


def test_name_collisions_between_different_content_get_a_suffix(importer, config, home):
    for n, folder in enumerate(("one", "two", "three")):
        (home / folder).mkdir()
        name = "Detailer.safetensors" if n < 2 else "DETAILER.safetensors"
        modelfiles.lora(home / folder / name, rank=4 + n)
    folders = []
    for folder, name in (("one", "Detailer"), ("two", "Detailer"), ("three", "DETAILER")):
        report = importer.import_paths([home / folder / f"{name}.safetensors"], copy=False)
        assert len(report.imported) == 1, report
        folders.append(Path(report.imported[0]["path"]))
    assert len({f.name.casefold() for f in folders}) == 3
    assert folders[0].name == "Detailer"
    assert folders[1].name.startswith("Detailer-") and len(folders[1].name) == len("Detailer-") + 4
    assert folders[2].name.startswith("DETAILER-")


def test_a_file_that_changes_while_hashing_is_not_imported(importer, config, drop):
    source = modelfiles.vae(drop / "growing.safetensors")
    unit = only_unit(source)
    appended = []

    def writer_still_busy(done: int, total: int) -> None:
        if not appended:
            with open(source, "ab") as handle:
                handle.write(b"more bytes")
            appended.append(True)

    outcome = importer.import_unit(unit, copy=True, progress=writer_still_busy)
    assert isinstance(outcome, Waiting)
    assert "changed" in outcome.reason
    assert ModelRecord.select().count() == 0
    assert list((config.library_root / ".modeld" / "staging").iterdir()) == []


def test_a_vanished_source_is_a_specific_failure(importer, drop):
    source = modelfiles.vae(drop / "gone.safetensors")
    unit = only_unit(source)
    source.unlink()
    outcome = importer.import_unit(unit, copy=False)
    assert isinstance(outcome, Failed)
    assert "gone.safetensors" in outcome.reason


def test_a_source_inside_the_library_is_refused(importer, config):
    inside = config.library_root / "stray.safetensors"
    modelfiles.vae(inside)
    outcome = importer.import_unit(only_unit(inside), copy=False)
    assert isinstance(outcome, Failed) and "inside the library" in outcome.reason
    assert inside.exists()


def test_progress_reports_bytes_done_of_total(importer, drop):
    source = modelfiles.llm_safetensors(drop / "llm.safetensors")
    seen = []
    outcome = importer.import_unit(
        only_unit(source), copy=True, progress=lambda d, t: seen.append((d, t))
    )
    assert isinstance(outcome, Imported)
    size = source.stat().st_size
    assert seen[-1] == (size, size)
    assert all(t == size for _, t in seen)


def test_disk_full_leaves_nothing_partial_and_the_source_untouched(home, drop):
    """A real 1 MiB tmpfs as the library: the copy hits ENOSPC."""
    library = home / "small"
    library.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(library)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        from modeld.config import load_config
        from modeld.library.db import open_index
        from modeld.library.layout import ensure_library
        from tests.conftest import write_config

        cfg_dir = home / "cfg"
        cfg_dir.mkdir()
        path = write_config(cfg_dir).read_text().replace(str(cfg_dir / "library"), str(library))
        (cfg_dir / "config.toml").write_text(
            path.replace("[library]", f'[library]\nindex = "{cfg_dir / "index.db"}"')
        )
        config = load_config(cfg_dir / "config.toml")
        source = drop / "big.safetensors"
        modelfiles.write_safetensors(source, {"w": ("F32", [600_000])})  # ~2.4 MB, not sparse
        with open(source, "r+b") as handle:
            handle.seek(200)
            handle.write(os.urandom(2_000_000))
        data = source.read_bytes()
        ensure_library(config.library_root)
        db = open_index(config.index_path)
        try:
            report = Importer(config).import_paths([source], copy=False)
        finally:
            db.close()
        assert report.imported == []
        assert len(report.failed) == 1
        assert "disk full" in report.failed[0]["reason"]
        assert source.read_bytes() == data
        leftovers = [p for p in library.rglob("*") if p.is_file() and p.suffix != ".json"]
        assert leftovers == []
    finally:
        subprocess.run(["umount", str(library)], check=False)


def test_pipelines_sharing_a_unet_but_not_a_vae_are_two_models(importer, config, home):
    first = modelfiles.make_diffusers_folder(home / "drop-a" / "pipeline-a")
    second = home / "drop-b" / "pipeline-b"
    shutil.copytree(first, second)
    vae = next(second.glob("vae/*.safetensors"))
    modelfiles.vae(vae, latent=8)  # same UNet, different VAE
    vae_bytes = vae.read_bytes()

    one = importer.import_paths([first], copy=False)
    two = importer.import_paths([second], copy=False)
    assert len(one.imported) == 1 and len(two.imported) == 1, two.to_json()
    assert one.imported[0]["id"] != two.imported[0]["id"]
    stored_vae = next(Path(two.imported[0]["path"]).glob("vae/*.safetensors"))
    assert stored_vae.read_bytes() == vae_bytes


def test_a_duplicate_keeps_its_unique_companion_at_the_source(importer, config, home):
    (home / "a").mkdir()
    (home / "b").mkdir()
    model = modelfiles.lora(home / "a" / "style.safetensors")
    importer.import_paths([model.parent], copy=False)
    again = modelfiles.lora(home / "b" / "style.safetensors")
    preview = home / "b" / "style.preview.png"
    preview.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    report = importer.import_paths([home / "b"], copy=False)
    assert len(report.duplicates) == 1
    assert not again.exists()  # its bytes are in the library, verified
    assert preview.exists()  # unique: never deleted


def test_a_moved_shard_set_is_identified_by_the_same_primary_as_a_copied_one(config, index, home):
    """The primary file is chosen at planning: after a move its source sizes are gone."""
    moved_dir, copied_dir = home / "moved", home / "copied"
    for folder in (moved_dir, copied_dir):
        folder.mkdir()
        modelfiles.make_shard_set(folder, "llm", 2)
    biggest = max(copied_dir.glob("llm-*.safetensors"), key=lambda p: p.stat().st_size)
    importer = Importer(config)
    copied = importer.import_paths([copied_dir], copy=True).imported[0]
    for model in ModelRecord.select():
        from modeld.library.index import remove_model

        remove_model(model.model_id)
    moved = importer.import_paths([moved_dir], copy=False).imported[0]
    assert moved["id"] == copied["id"]
    assert moved["sha256"] == copied["sha256"]
    assert copied["sha256"] == hashlib.sha256(biggest.read_bytes()).hexdigest()
