"""End to end: a real `modeld run` imports files whatever their names.

Each name the file system allows and the contract promises to import (bytes
that are not UTF-8, a newline, control characters, 255-byte names, a folder
named in Latin-1) is dropped into a real inbox; each is imported under a safe
library name, metadata.json keeps its exact original name, and the daemon's
log shows the path escaped on one line, never a traceback.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from modeld.vocab.naming import NAME_MAX, SUFFIX_ROOM, display_name, safe_component
from tests import modelfiles
from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.e2e

LATIN1 = os.fsdecode(b"caf\xe9-\xff\xfe.safetensors")
NEWLINE = "two\nlines.safetensors"
CONTROL = "bell\x07tab\tesc\x1b.safetensors"
LONG_MULTIBYTE = "語" * 81 + ".safetensors"  # 255 bytes
LONG_ASCII = "x" * 243 + ".safetensors"  # 255 bytes
FOLDER = os.fsdecode(b"dossier-\xe9t\xe9")
FILE_NAMES = [LATIN1, NEWLINE, CONTROL, LONG_MULTIBYTE, LONG_ASCII]
JUNK = os.fsdecode(b"junk-\xff.safetensors")  # not a model: refused for its bytes, not its name


def _mentions(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(_mentions(v, text) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, text) for v in value)
    return False


def test_every_name_the_file_system_allows_is_imported_and_logged_escaped(daemon_factory, home):
    daemon = daemon_factory()
    outside = home / "outside"
    outside.mkdir()
    dropped: dict[str, Path] = {}  # original name -> where it was dropped
    for rank, name in enumerate(FILE_NAMES, start=1):
        modelfiles.lora(outside / name, rank=rank).rename(daemon.drop / name)
        dropped[name] = daemon.drop / name
    folder = outside / FOLDER
    folder.mkdir()
    modelfiles.lora(folder / "style.safetensors", rank=len(FILE_NAMES) + 1)
    folder.rename(daemon.drop / FOLDER)
    dropped["style.safetensors"] = daemon.drop / FOLDER / "style.safetensors"
    (outside / JUNK).write_bytes(b"this is not a model at all\n" * 8)
    (outside / JUNK).rename(daemon.drop / JUNK)

    models = wait_until(
        lambda: (found := daemon.models()) and len(found) == len(dropped) and found,
        what="every name to be imported",
    )
    originals = {}
    for model in models:
        folder_path = Path(model["path"])
        [file] = model["files"]
        for part in (*folder_path.parts[-3:], Path(file["path"]).name):
            assert part == safe_component(part), part
            assert len(os.fsencode(part)) + SUFFIX_ROOM <= NAME_MAX
        document = json.loads((folder_path / "metadata.json").read_text(encoding="utf-8"))
        [entry] = document["files"]
        if "original_name_base64" in entry:
            original = os.fsdecode(base64.b64decode(entry["original_name_base64"]))
            assert entry["original_name"] == display_name(original)
        else:
            original = entry["original_name"]
        originals[original] = document
    assert set(originals) == set(dropped)
    assert "original_name_base64" in originals[LATIN1]["files"][0]
    for name in (NEWLINE, CONTROL, LONG_MULTIBYTE, LONG_ASCII):
        assert originals[name]["files"][0]["original_name"] == name
    # the folder's own name is kept exactly in the source path
    [source] = originals["style.safetensors"]["sources_base64"]
    assert base64.b64decode(source) == os.fsencode(dropped["style.safetensors"])

    # the junk is refused for what it is, reported with its path, and left in the inbox
    def junk_reported() -> dict | None:
        status = daemon.status()
        return status if _mentions(status.get("errors"), str(daemon.drop / JUNK)) else None

    wait_until(junk_reported, what="the junk file's error in status")
    assert os.listdir(daemon.drop) == [JUNK]

    log = (home / "state" / "modeld.log").read_bytes().decode("utf-8")
    shown = str(daemon.drop / "caf\\xe9-\\xff\\xfe.safetensors")
    assert f"imported {shown} as " in log
    assert f"imported {daemon.drop}/two\\nlines.safetensors as " in log
    assert f"imported {daemon.drop}/bell\\x07tab\\tesc\\x1b.safetensors as " in log
    assert f"{daemon.drop}/junk-\\xff.safetensors" in log
    for line in log.splitlines():  # a newline in a name never starts a log line
        assert line[:1].isdigit(), line
    for output in (log, daemon.log()):
        assert "Traceback" not in output and "Logging error" not in output
    assert daemon.stop() == 0
