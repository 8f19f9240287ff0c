"""Details found by auditing the real CLI against CONTRACT.md: real files, real subprocess."""

from __future__ import annotations

from pathlib import Path

from tests import modelfiles


def test_a_named_file_leaves_a_sibling_that_only_shares_a_prefix(cli, drop):
    # `modeld import big.safetensors --json > bigimport.json` in the same folder:
    # the report file is the user's, not a companion of the model
    model = modelfiles.lora(drop / "big.safetensors")
    (drop / "big.preview.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (drop / "bigimport.json").write_text("{}")
    report = cli.json("import", str(model))
    [imported] = report["imported"]
    names = sorted(Path(f["path"]).name for f in imported["files"])
    assert names == ["big.preview.png", "big.safetensors"]
    assert not any(p.name.startswith("bigimport") for p in Path(imported["path"]).iterdir())
    assert (drop / "bigimport.json").read_text() == "{}"
    assert sorted(p.name for p in drop.iterdir()) == ["bigimport.json"]
