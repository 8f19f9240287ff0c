"""Any name the file system allows is imported, under a safe library name, with
the original kept exactly (the contract's promise on names).

Real files, a real index, the real Importer; the daemon end to end is in
tests/e2e/test_names_e2e.py.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import pytest

from modeld.ingest import ledger
from modeld.ingest.pipeline import Importer
from modeld.ingest.quarantine import list_quarantine, quarantine_file
from modeld.library import index
from modeld.library.db import FileRecord, ModelRecord, database
from modeld.library.deepscan import scan_library
from modeld.library.metadata import METADATA_NAME, read_metadata
from modeld.logformat import ENCODING, ERRORS, EscapingFormatter
from modeld.vocab.atomic import atomic_write_json
from modeld.vocab.naming import (
    NAME_MAX,
    SUFFIX_ROOM,
    display_name,
    is_text,
    safe_component,
    safe_relative_names,
)
from tests import modelfiles

LATIN1 = os.fsdecode(b"caf\xe9-\xff\xfe.safetensors")  # not UTF-8
NEWLINE = "two\nlines.safetensors"
CONTROL = "bell\x07tab\tesc\x1b.safetensors"
# 255 bytes, 3 bytes a character: the longest name ext4 allows, not ASCII
LONG_MULTIBYTE = "語" * 81 + ".safetensors"
LONG_ASCII = "x" * 243 + ".safetensors"
NAMES = [LATIN1, NEWLINE, CONTROL, LONG_MULTIBYTE, LONG_ASCII]


def test_the_long_names_are_as_long_as_the_file_system_allows():
    assert len(os.fsencode(LONG_MULTIBYTE)) == NAME_MAX == len(os.fsencode(LONG_ASCII))


# -- naming ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_a_safe_name_is_printable_utf8_with_room_for_suffixes(name):
    safe = safe_component(name)
    assert is_text(safe)
    assert not any(ord(ch) < 0x20 or ch == "\x7f" for ch in safe)
    assert safe.endswith(".safetensors")
    # '.NAME.XXXXXXXX.tmp' beside it, or NAME + '.quarantine.json', still fits NAME_MAX
    assert len(os.fsencode(safe)) + SUFFIX_ROOM <= NAME_MAX
    assert len(os.fsencode(f".{safe}.quarantine.json.abcdefgh.tmp")) <= NAME_MAX


def test_bytes_that_are_not_utf8_become_underscores():
    assert safe_component(LATIN1) == "caf_-__.safetensors"
    assert safe_component(os.fsdecode(b"\xff\xfe.gguf")) == "model.gguf"


def test_display_name_is_one_line_of_text_that_shows_every_byte():
    assert display_name(LATIN1) == "caf\\xe9-\\xff\\xfe.safetensors"
    assert display_name(NEWLINE) == "two\\nlines.safetensors"
    assert display_name(CONTROL) == "bell\\x07tab\\tesc\\x1b.safetensors"
    assert display_name("über.gguf") == "über.gguf"
    assert is_text(display_name(LATIN1))


def test_names_that_become_alike_stay_apart_in_one_model_folder():
    names = ["a\x01.json", "a\x02.json", "A_.json", "unet/m.bin", os.fsdecode(b"un\xffet/m.bin")]
    safe = safe_relative_names(names)
    assert set(safe) == set(names)
    folded = [s.casefold() for s in safe.values()]
    assert len(set(folded)) == len(names), safe
    assert safe["unet/m.bin"] == "unet/m.bin"
    assert all(s.endswith(".json") for n, s in safe.items() if n.endswith(".json"))
    # the same input gives the same names on every machine
    assert safe_relative_names(reversed(names)) == safe


# -- ledger ------------------------------------------------------------------


def test_the_ledger_keeps_a_path_that_is_not_utf8_exactly(index, tmp_path):
    path = modelfiles.lora(tmp_path / LATIN1)
    twin = modelfiles.lora(tmp_path / "caf\\xe9-\\xff\\xfe.safetensors")  # its display form
    assert not ledger.handled(path)
    ledger.record(path, "failed", f"could not read {path}")
    assert ledger.handled(path) == ledger.Handled("failed", f"could not read {path}")
    assert not ledger.handled(twin)
    row = database.execute_sql("SELECT path, detail FROM source_ledger").fetchone()
    assert row[0] == os.fsencode(path)  # the exact bytes, as a BLOB
    entry = ledger.SourceLedger.get()
    assert entry.path == str(path) and entry.detail == f"could not read {path}"
    path.unlink()
    ledger.record(path, "imported")  # gone: the entry is dropped
    assert ledger.SourceLedger.select().count() == 0


# -- the importer, metadata.json and the index --------------------------------


@pytest.fixture
def imported(config, index, drop):
    for rank, name in enumerate(NAMES, start=1):
        modelfiles.lora(drop / name, rank=rank)  # distinct content: no duplicates
    return Importer(config).import_paths([drop], copy=False, boundary=drop)


def test_every_name_is_imported_under_a_safe_name_with_its_original_kept(imported, drop):
    assert imported.failed == [] and imported.waiting == []
    assert len(imported.imported) == len(NAMES)
    originals = {}
    for model in imported.imported:
        folder = Path(model["path"])
        for part in (*folder.parts[-3:], Path(model["files"][0]["path"]).name):
            assert is_text(part) and part == safe_component(part)
            assert len(os.fsencode(part)) + SUFFIX_ROOM <= NAME_MAX
        meta = read_metadata(folder)
        [file] = meta.files
        originals[file.original_name] = (folder, meta)
        assert meta.sources == [str(drop / file.original_name)]
        assert is_text(meta.name) and meta.name == display_name(meta.name)
    assert set(originals) == set(NAMES)
    assert os.listdir(drop) == []  # moved in, nothing left behind

    folder, _meta = originals[LATIN1]
    document = json.loads((folder / METADATA_NAME).read_text(encoding="utf-8"))
    [entry] = document["files"]
    assert base64.b64decode(entry["original_name_base64"]) == os.fsencode(LATIN1)
    assert entry["original_name"] == "caf\\xe9-\\xff\\xfe.safetensors"
    [source] = document["sources_base64"]
    assert base64.b64decode(source) == os.fsencode(drop / LATIN1)
    for name in (NEWLINE, CONTROL, LONG_MULTIBYTE):
        folder, _meta = originals[name]
        document = json.loads((folder / METADATA_NAME).read_text(encoding="utf-8"))
        assert document["files"][0]["original_name"] == name  # text, exact
        assert "original_name_base64" not in document["files"][0]
        assert "sources_base64" not in document


def test_the_index_holds_the_original_names_and_a_deep_scan_rebuilds_them(imported, config):
    stored = {r.original_name for r in FileRecord.select()}
    assert stored == set(NAMES)
    for record in ModelRecord.select():
        index.remove_model(record.model_id)
    assert FileRecord.select().count() == 0
    report = scan_library(config.library_root, deep=True)
    assert report.skipped == [] and report.indexed == len(NAMES)
    assert {r.original_name for r in FileRecord.select()} == set(NAMES)


def test_a_library_folder_renamed_to_bytes_that_are_not_utf8_still_indexes(imported, config):
    model = imported.imported[0]
    folder = Path(model["path"])
    renamed = folder.with_name(os.fsdecode(b"renamed-\xe9"))
    os.rename(folder, renamed)
    report = scan_library(config.library_root, deep=True)
    # the same id under a new folder: the row follows it
    assert report.skipped == [] and report.indexed == len(NAMES)
    record = index.get_model(model["id"])
    assert record.rel_path == renamed.relative_to(config.library_root).as_posix()
    found = index.find_file(model["blake3"])
    assert found is not None and (config.library_root / found).is_file()


def test_two_companions_whose_safe_names_collide_are_both_kept(config, index, drop):
    folder = drop / "style"
    folder.mkdir()
    modelfiles.lora(folder / "style.safetensors")
    (folder / "notes\x01.txt").write_text("one")
    (folder / "notes\x02.txt").write_text("two")
    report = Importer(config).import_paths([folder], copy=False, boundary=drop)
    [model] = report.imported
    meta = read_metadata(Path(model["path"]))
    by_original = {f.original_name: f.name for f in meta.files}
    assert set(by_original) == {"style.safetensors", "notes\x01.txt", "notes\x02.txt"}
    texts = {
        (Path(model["path"]) / by_original[n]).read_text()
        for n in ("notes\x01.txt", "notes\x02.txt")
    }
    assert texts == {"one", "two"}


def test_a_late_preview_named_in_bytes_that_are_not_utf8_joins_its_model(config, index, drop):
    importer = Importer(config)
    [model] = importer.import_paths([modelfiles.lora(drop / LATIN1)], copy=False).imported
    preview_name = os.fsdecode(b"caf\xe9-\xff\xfe.preview.png")
    (drop / preview_name).write_bytes(b"\x89PNG\r\n\x1a\nlate")
    report = importer.import_paths([drop / preview_name], copy=False, boundary=drop)
    assert report.failed == []
    [joined] = report.imported
    assert joined["id"] == model["id"]
    folder = Path(model["path"])
    meta = read_metadata(folder)
    entry = next(f for f in meta.files if f.original_name == preview_name)
    assert entry.name == "caf_-__.preview.png" == safe_component(preview_name)
    assert (folder / entry.name).read_bytes() == b"\x89PNG\r\n\x1a\nlate"
    assert os.listdir(drop) == []


def test_unreadable_exact_bytes_make_metadata_invalid_not_a_crash(imported):
    folder = Path(imported.imported[0]["path"])
    document = json.loads((folder / METADATA_NAME).read_text(encoding="utf-8"))
    document["files"][0]["original_name_base64"] = "not base64!"
    (folder / METADATA_NAME).write_text(json.dumps(document))
    with pytest.raises(ValueError, match="invalid metadata"):
        read_metadata(folder)


@pytest.mark.parametrize("name", [os.fsdecode(b"evil-\xff.pt"), "語" * 85])
def test_a_file_quarantined_under_any_name_gets_its_record(tmp_path, name):
    # not a pickle: quarantine_file moves bytes aside and never reads them
    source = tmp_path / "inbox" / name
    source.parent.mkdir()
    source.write_bytes(b"payload")
    target = quarantine_file(
        source, tmp_path / "quarantine", "can run code", ("os.system",), keep_source=False
    )
    assert target.read_bytes() == b"payload" and not source.exists()
    assert is_text(target.name) and len(os.fsencode(target.name)) + SUFFIX_ROOM <= NAME_MAX
    [record] = list_quarantine(tmp_path / "quarantine")
    assert record["path"] == str(source) and record["quarantined_path"] == str(target)


# -- JSON files and log lines --------------------------------------------------


def test_a_json_file_holding_a_path_that_is_not_utf8_round_trips(tmp_path):
    document = {"sources": [str(tmp_path / LATIN1)]}
    atomic_write_json(tmp_path / "entry.json", document)
    assert json.loads((tmp_path / "entry.json").read_text(encoding="utf-8")) == document


def test_a_log_line_shows_any_name_escaped_on_one_line(tmp_path):
    log_file = tmp_path / "modeld.log"
    handler = logging.FileHandler(log_file, encoding=ENCODING, errors=ERRORS)
    handler.setFormatter(EscapingFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.names")
    logger.addHandler(handler)
    logger.propagate = False
    errors = []
    handler.handleError = lambda record: errors.append(record)  # type: ignore[method-assign]
    try:
        for name in (LATIN1, NEWLINE):
            logger.warning("not imported: %s: %s", Path("/drop") / name, "reason")
        logger.warning(f"an f-string: {LATIN1}")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert errors == []
    assert log_file.read_text(encoding="utf-8").splitlines() == [
        "WARNING not imported: /drop/caf\\xe9-\\xff\\xfe.safetensors: reason",
        "WARNING not imported: /drop/two\\nlines.safetensors: reason",
        "WARNING an f-string: caf\\udce9-\\udcff\\udcfe.safetensors",
    ]
